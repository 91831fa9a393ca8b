// The descriptions of the webhook targets a report or workflow run takes, said once.
export const WEBHOOK_URL_HELP =
  'Where its end (every terminal state) is POSTed, signed with the deployment-wide secret ' +
  '(Standard Webhooks); checked as a task webhookUrl is.';
export const WEBHOOK_ENDPOINT_HELP =
  "An endpoint of the same team to send its end to (signed with the endpoint's secret), " +
  "whatever types it subscribes to; another team's is NOT_FOUND.";
