// Type-aware lint: the rules that catch un-awaited promises and unsafe `any` flows need the
// TypeScript program, so every file is linted against tsconfig.json.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".venv/", ".data/", "coverage/", "dist/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "error",
    },
  },
  {
    // Scripts, tests and benchmarks talk to a person on the terminal.
    files: ["scripts/**", "test/**", "bench/**", "**/*.test.ts"],
    rules: { "no-console": "off" },
  },
  // Layering: what may import what (each folder's README says the same in words). Flat config
  // replaces a rule's options wholesale where several blocks match a file, so each block below
  // lists every restriction that applies to its files.
  ...layering(),
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);

/**
 * The import rules between the workspace packages. Data flows one way: packages/samples and the
 * services build on packages/core; services/all starts the other services; nothing builds on a
 * service but services/all (and the scripts, tests and benchmarks outside the workspaces).
 */
function layering() {
  const outOfPackage = {
    // A relative path into another workspace package skips its package.json (its exports and the
    // dependency it must declare): import it by its name.
    regex: "^(\\.\\./)+(packages|services)/",
    message: "A relative import may not climb out of its package: import another workspace package by its name (@gdr/core/...).",
  };
  const noOtherService = {
    regex: "^@gdr/(?!core(/|$))",
    message: "A service imports only @gdr/core among the workspace packages: move what two services share into packages/core.",
  };
  const noOtherServiceButSamples = {
    regex: "^@gdr/(?!core(/|$)|samples(/|$))",
    message: noOtherService.message,
  };
  const coreAlone = {
    regex: "^@gdr/(?!core(/|$))",
    message: "packages/core imports no service and no sample data (@gdr/samples only in *.test.ts): services build on core, not the reverse.",
  };
  const coreTestsSamples = { regex: "^@gdr/(?!core(/|$)|samples(/|$))", message: coreAlone.message };
  const all = {
    // services/all starts the others: their configuration and their one start-up factory each.
    regex: "^@gdr/(?!core(/|$)|(api|worker)/(config|server|service)$|ingest/(config|service)$)",
    message: "services/all imports @gdr/core and each service's config and server/service factory only.",
  };
  const engineNotPlaybooks = {
    regex: "^((\\.\\./)+|@gdr/worker/)playbooks(/|$)",
    message: "The worker's engine may not import a playbook: playbooks depend on the engine (engine/step.ts), not the reverse.",
  };
  const restrict = (...patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
  const tests = "**/*.test.ts";
  return [
    { files: ["packages/core/**"], rules: restrict(outOfPackage, coreAlone) },
    { files: [`packages/core/${tests}`], rules: restrict(outOfPackage, coreTestsSamples) },
    { files: ["packages/samples/**"], rules: restrict(outOfPackage, coreTestsSamples) },
    { files: ["services/**"], rules: restrict(outOfPackage, noOtherService) },
    { files: [`services/${tests}`], rules: restrict(outOfPackage, noOtherServiceButSamples) },
    { files: ["services/all/**"], rules: restrict(outOfPackage, all) },
    { files: ["services/worker/src/engine/**"], rules: restrict(outOfPackage, noOtherService, engineNotPlaybooks) },
    { files: [`services/worker/src/engine/${tests}`], rules: restrict(outOfPackage, noOtherServiceButSamples, engineNotPlaybooks) },
  ];
}
