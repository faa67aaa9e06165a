import { describe, expect, it } from "vitest";
import { textProblem } from "./text.js";

describe("textProblem", () => {
  it("refuses NUL and other controls, and lone surrogates; allows tab, accents and paired surrogates", () => {
    expect(textProblem("isolate\u0000now")).toBe("must not contain control characters");
    expect(textProblem("line\nforged")).toBe("must not contain control characters");
    expect(textProblem("c1\u0085")).toBe("must not contain control characters");
    expect(textProblem("abc\ud800def")).toBe("must not contain an unpaired UTF-16 surrogate");
    expect(textProblem("\udc00")).toBe("must not contain an unpaired UTF-16 surrogate");
    expect(textProblem("tab\tis fine, so is café and 🔒")).toBeNull();
  });
});
