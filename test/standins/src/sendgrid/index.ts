export { faultBodies, type SendGridErrorBody, type SendGridFaultStatus } from './responses.js';
export {
  type AcceptedMessage,
  type RecordedRequest,
  type RequestOutcome,
  type SendGridFault,
  SendGridStandIn,
  type SendGridStandInOptions,
  startSendGridStandIn,
} from './server.js';
export {
  loadMailSendSchemaValidator,
  MAIL_SEND_SPEC_PATH,
  type MailSendSchemaOptions,
  type MailSendSchemaValidator,
  type SchemaIssue,
} from './spec.js';
export { type MailAddressJson, type MailSendBody, type MailSendRules, mailSendErrors, type SendGridApiError } from './validation.js';
