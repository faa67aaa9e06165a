// What global-setup.ts hands to every integration test file through vitest's provide/inject.
// Declared here, in a module both sides import, so that the augmentation is always in the program.

declare module "vitest" {
  export interface ProvidedContext {
    /** A URL with rights to CREATE/DROP DATABASE; per-file databases are made through it. */
    gdrAdminDatabaseUrl: string;
    /** The migrated database that every per-file database is copied from. */
    gdrTemplateDatabase: string;
    /** Redis for the run; each file isolates itself with a key prefix. */
    gdrRedisUrl: string;
    /** Names this run's databases (gdr_t_<runId>_…) so that leftovers of dead runs can be found. */
    gdrRunId: string;
  }
}

export {};
