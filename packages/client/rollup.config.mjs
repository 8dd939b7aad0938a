import { builtinModules } from 'node:module';
import { dts } from 'rollup-plugin-dts';

/**
 * Bundles the declarations into one self-contained dist/index.d.ts. An app installs only this
 * package and its public dependencies, so the router's types (and the api, core and store
 * types they reach) are copied in rather than imported from unpublished @mailroute packages.
 */

/**
 * Every router in AppRouter names the server's request context (`ctx`), whose type reaches
 * the store, Prisma's generated client, the AWS SDK and pino. A client never sees the context
 * (tRPC's client types read only inputs, outputs and the error shape), so the declarations
 * get an opaque one instead of the whole server's type graph.
 */
const opaqueServerContext = {
  name: 'opaque-server-context',
  load(id) {
    if (!/(@mailroute|packages)[\\/]api[\\/]dist[\\/]context\.d\.ts$/.test(id)) return null;
    return [
      '/** The server-side request context: opaque to a client. */',
      'export interface ApiContext { readonly _serverContext: never }',
      'export interface ApiDependencies { readonly _serverDependencies: never }',
      'export interface RequestInfo { readonly authorization: string | undefined }',
      'export type Caller = object;',
      'export declare function createContextFactory(deps: ApiDependencies): (request: RequestInfo) => Promise<ApiContext>;',
    ].join('\n');
  },
};

export default {
  input: 'dist/types/index.d.ts',
  output: { file: 'dist/index.d.ts', format: 'es' },
  // Node's own modules are reached only through server types that tree-shaking drops.
  external: (id) => /^@trpc\/(client|server)(\/|$)/.test(id) || id.startsWith('node:') || builtinModules.includes(id),
  plugins: [opaqueServerContext, dts({ respectExternal: true, tsconfig: 'tsconfig.build.json' })],
};
