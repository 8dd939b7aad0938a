import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { type Document, OpenAPIBackend } from 'openapi-backend';

/** The official description, unchanged on disk (see the README beside it). */
export const MAIL_SEND_SPEC_PATH = fileURLToPath(new URL('../../specs/sendgrid/tsg_mail_v3.json', import.meta.url));

const OPERATION_ID = 'SendMail';

/** One schema violation in a mail send body, located by the path of the offending value. */
export interface SchemaIssue {
  /** Path segments below the body, e.g. `['personalizations', '0', 'to', '0', 'email']`. */
  readonly path: readonly string[];
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message: string;
  /** The offending value (for `required`, the object missing the property). */
  readonly value: unknown;
}

export interface MailSendSchemaValidator {
  /** Schema violations of a parsed JSON body; empty when the body conforms. */
  validate(body: unknown): readonly SchemaIssue[];
}

export interface MailSendSchemaOptions {
  /** Replace the published string type of message-level `custom_args` (default true). */
  readonly patchCustomArgs?: boolean;
}

/**
 * openapi-backend checks a document against the OpenAPI 3.0 meta-schema only, which
 * rejects valid 3.1 constructs this file uses (`info.summary`, siblings of `$ref`). The
 * document is the published one, so that check is skipped; request bodies are still
 * validated, by Ajv2020 (JSON Schema 2020-12, the dialect of OpenAPI 3.1).
 */
class OpenApi31Backend extends OpenAPIBackend {
  override validateDefinition(): Document {
    const version = (this.document as { openapi?: unknown }).openapi;
    if (typeof version !== 'string' || !version.startsWith('3.1.')) {
      throw new Error(`expected an OpenAPI 3.1 document, got openapi: ${String(version)}`);
    }
    return this.document;
  }
}

export async function loadMailSendSchemaValidator(options: MailSendSchemaOptions = {}): Promise<MailSendSchemaValidator> {
  const document = JSON.parse(await readFile(MAIL_SEND_SPEC_PATH, 'utf8')) as Document;
  if (options.patchCustomArgs ?? true) patchCustomArgs(document);
  const api = new OpenApi31Backend({
    definition: document,
    strict: true,
    customizeAjv: (_draft07, ajvOptions) => {
      const ajv = new Ajv2020({ ...ajvOptions, allErrors: true, verbose: true });
      ajvFormats.default(ajv);
      return ajv;
    },
  });
  await api.init();
  return {
    validate(body) {
      const result = api.validateRequest(
        { method: 'POST', path: '/v3/mail/send', headers: { 'content-type': 'application/json' }, body },
        OPERATION_ID,
      );
      return (result.errors ?? []).map((error) => ({
        path: error.instancePath.split('/').slice(2),
        keyword: error.keyword,
        params: error.params as Record<string, unknown>,
        message: error.message ?? error.keyword,
        value: error.data,
      }));
    },
  };
}

/**
 * The published file types message-level `custom_args` as a string, but the real API takes
 * an object of string values and answers 400 to a string. The stand-in must judge bodies
 * the way SendGrid does, so this one schema is corrected in memory.
 */
function patchCustomArgs(document: Document): void {
  const body = document.components?.requestBodies?.PostMailSend;
  const schema = body && 'content' in body ? body.content['application/json']?.schema : undefined;
  const properties = schema && 'properties' in schema ? schema.properties : undefined;
  if (!properties?.custom_args) throw new Error('tsg_mail_v3.json: message-level custom_args not found where expected');
  properties.custom_args = { type: 'object', additionalProperties: { type: 'string' } };
}
