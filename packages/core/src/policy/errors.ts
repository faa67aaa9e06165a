/** Thrown for a policy file that cannot be used; `problems` lists every one found, in file order. */
export class PolicyError extends Error {
  override readonly name = "PolicyError";
  readonly source: string;
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(`invalid policy file ${source} (${count}):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.source = source;
    this.problems = Object.freeze([...problems]);
  }
}
