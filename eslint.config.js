// Type-aware lint: the rules that catch un-awaited promises and unsafe `any` flows need the
// TypeScript program, so every file is linted against tsconfig.json.
import path from "node:path";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const ROOT = import.meta.dirname;

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
  { plugins: { gdr: { rules: { "workspace-imports": workspaceImports() } } } },
  ...layering(),
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);

/**
 * The import rules between the workspace packages. Data flows one way: packages/samples and the
 * services build on packages/core; services/all starts the other services; nothing builds on a
 * service but services/all (and the scripts, tests and benchmarks outside the workspaces).
 */
function layering() {
  // A relative path out of the file's own workspace package (checked by gdr/workspace-imports,
  // below, against the file's own package root, whatever the depth) skips the other package's
  // package.json (its exports and the dependency it must declare): import it by its name.
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
  // Static imports by no-restricted-imports; dynamic import() of the same names, and every
  // relative specifier that leaves the package, by the local rule.
  const restrict = (...patterns) => ({
    "no-restricted-imports": ["error", { patterns }],
    "gdr/workspace-imports": ["error", { patterns }],
  });
  const tests = "**/*.test.ts";
  return [
    { files: ["packages/core/**"], rules: restrict(coreAlone) },
    { files: [`packages/core/${tests}`], rules: restrict(coreTestsSamples) },
    { files: ["packages/samples/**"], rules: restrict(coreTestsSamples) },
    { files: ["services/**"], rules: restrict(noOtherService) },
    { files: [`services/${tests}`], rules: restrict(noOtherServiceButSamples) },
    { files: ["services/all/**"], rules: restrict(all) },
    { files: ["services/worker/src/engine/**"], rules: restrict(noOtherService, engineNotPlaybooks) },
    { files: [`services/worker/src/engine/${tests}`], rules: restrict(noOtherServiceButSamples, engineNotPlaybooks) },
  ];
}

/** The workspace package a file belongs to (packages/<name> or services/<name>), or null. */
function workspaceOf(filename) {
  const parts = path.relative(ROOT, filename).split(path.sep);
  return (parts[0] === "packages" || parts[0] === "services") && parts.length > 2 ? path.join(ROOT, parts[0], parts[1]) : null;
}

/**
 * gdr/workspace-imports: a relative specifier (static, re-export or dynamic import()) may not
 * resolve outside the file's workspace package, at any depth, and a dynamic import() may not name
 * what the block's no-restricted-imports patterns refuse (that rule sees static imports only).
 * A dynamic import of a computed string is not checked (its value is unknown here); a template
 * literal is checked by its leading text.
 */
function workspaceImports() {
  return {
  meta: {
    type: "problem",
    schema: [
      {
        type: "object",
        properties: { patterns: { type: "array", items: { type: "object", properties: { regex: { type: "string" }, message: { type: "string" } } } } },
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const patterns = (context.options[0]?.patterns ?? []).map((p) => ({ re: new RegExp(p.regex), message: p.message }));
    const home = workspaceOf(context.filename);
    const check = (node, specifier, dynamic) => {
      if (typeof specifier !== "string") return;
      if (home && specifier.startsWith(".")) {
        const target = path.resolve(path.dirname(context.filename), specifier);
        if (target !== home && !target.startsWith(home + path.sep)) {
          context.report({ node, message: `A relative import may not leave its package (${path.relative(ROOT, home)}): import another workspace package by its name (@gdr/core/...).` });
          return;
        }
      }
      if (!dynamic) return;
      const refused = patterns.find((p) => p.re.test(specifier));
      if (refused) context.report({ node, message: `${refused.message} (dynamic import)` });
    };
    const sourceText = (source) => {
      if (!source) return undefined;
      if (source.type === "Literal") return source.value;
      if (source.type === "TemplateLiteral") return source.quasis[0]?.value.cooked ?? undefined;
      return undefined;
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value, false),
      ExportAllDeclaration: (node) => check(node, node.source.value, false),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, false),
      ImportExpression: (node) => check(node, sourceText(node.source), true),
    };
  },
};
}
