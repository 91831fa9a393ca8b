// The planner's value types as the schema layer sees them (it may not reach src/reports).
export type {
  ConstraintViolation,
  PlannedStep,
  StepEstimate,
} from '../../reports/planner/workflow-types.js';
