-- LLM budget reservations (issue 29): each call's reservation is a row until it settles, so a
-- settle is applied once and a reservation a dead process left expires into spend.
-- CreateTable
CREATE TABLE "llm_budget_reservations" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "budgetId" UUID NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "period" "BudgetPeriod" NOT NULL,
    "amountUsd" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "llm_budget_reservations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "llm_budget_reservations_budgetId_idx" ON "llm_budget_reservations"("budgetId");

-- CreateIndex
CREATE INDEX "llm_budget_reservations_expiresAt_idx" ON "llm_budget_reservations"("expiresAt");

-- AddForeignKey
ALTER TABLE "llm_budget_reservations" ADD CONSTRAINT "llm_budget_reservations_budgetId_fkey" FOREIGN KEY ("budgetId") REFERENCES "llm_budgets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
