export {
  type ReceivedSmtpMessage,
  type SmtpFault,
  type SmtpOutcome,
  type SmtpReply,
  type SmtpStage,
  type SmtpStandin,
  type SmtpStandinFaults,
  type SmtpStandinOptions,
  startSmtpStandin,
} from './standin.js';
