// Task memory: the text the loop's next PLAN prompt gets (full recent iterations, one-line summaries, merged oldest
// lines, always within maxChars, the same text for the same facts), failing lines out of real test runners' output,
// and the no-progress signature.

import { describe, expect, it } from "vitest";
import { failingLines, type IterationFacts, progressSignature, renderMemory } from "../workflows/lib/task-memory.js";

function facts(iteration: number, overrides: Partial<IterationFacts> = {}): IterationFacts {
	return {
		iteration,
		tried: `approach ${iteration}`,
		filesChanged: [`src/file-${iteration}.ts`],
		insertions: 10 * iteration,
		deletions: iteration,
		verify: { passed: false, exitCode: 1, failing: [`FAIL tests/a.test.ts > case ${iteration}`] },
		...overrides,
	};
}

/** An iteration with everything long: a 200-char approach, 12 long paths, 20 failing lines of 160 chars, 3 notes. */
function longFacts(iteration: number): IterationFacts {
	const pad = (text: string, length: number) =>
		text.padEnd(length, ` iteration ${iteration} detail`).slice(0, length).trimEnd();
	return {
		iteration,
		tried: pad(`Iteration ${iteration}: rewrite the tokenizer so that`, 200),
		filesChanged: Array.from(
			{ length: 12 },
			(_, i) => `packages/core/src/parser/deeply/nested/module-${iteration}-${i}.ts`,
		),
		insertions: 400 + iteration,
		deletions: 120 + iteration,
		verify: {
			passed: false,
			exitCode: 1,
			failing: Array.from({ length: 20 }, (_, i) =>
				pad(`FAIL tests/parser-${i}.test.ts > iteration ${iteration}`, 160),
			),
		},
		notes: Array.from({ length: 3 }, (_, i) => pad(`changed non-test files in a tests task (${i})`, 150)),
	};
}

/** The latest iteration's facts, each on its own line: header, what was tried, diff stat, verify, first failure. */
function expectInFull(text: string, latest: IterationFacts): void {
	expect(text).toContain(`iteration ${latest.iteration}:\n  - tried: ${latest.tried}\n  - files changed`);
	expect(text).toContain(`\n  - diff: +${latest.insertions} -${latest.deletions}\n`);
	expect(text).toContain(`\n  - verify: failed (exit 1), ${latest.verify.failing.length} failing:\n`);
	expect(text).toContain(`\n    - ${latest.verify.failing[0]}\n`);
	expect(text).toContain(`\n  - note: ${latest.notes?.[0]}`);
}

describe("renderMemory", () => {
	it("is empty for no iterations", () => {
		expect(renderMemory([])).toBe("");
	});

	it("shows one iteration in full, one fact a line", () => {
		const one = facts(1, {
			tried: "Add a cache in front of the resolver",
			filesChanged: ["src/resolver.ts", "src/cache.ts"],
			insertions: 42,
			deletions: 7,
			verify: { passed: false, exitCode: 1, failing: ["FAIL tests/cache.test.ts > evicts", "Tests 1 failed"] },
			notes: ["changed non-test files in a tests task: src/cache.ts"],
		});
		expect(renderMemory([one])).toBe(
			[
				"iteration 1:",
				"  - tried: Add a cache in front of the resolver",
				"  - files changed (2): src/resolver.ts, src/cache.ts",
				"  - diff: +42 -7",
				"  - verify: failed (exit 1), 2 failing:",
				"    - FAIL tests/cache.test.ts > evicts",
				"    - Tests 1 failed",
				"  - note: changed non-test files in a tests task: src/cache.ts",
			].join("\n"),
		);
	});

	it("shows a passed verify, no files and a missing exit code plainly", () => {
		const passed = facts(1, { filesChanged: [], verify: { passed: true, exitCode: 0, failing: [] } });
		const killed = facts(2, { verify: { passed: false, exitCode: null, failing: [] } });
		expect(renderMemory([passed, killed], { keepRecent: 1 })).toBe(
			[
				"iteration 1: tried approach 1; no files changed; verify passed",
				"iteration 2:",
				"  - tried: approach 2",
				"  - files changed (1): src/file-2.ts",
				"  - diff: +20 -2",
				"  - verify: failed (no exit code)",
			].join("\n"),
		);
	});

	it("cuts long lists with 'and N more'", () => {
		const text = renderMemory([longFacts(1)]);
		expect(text).toContain("packages/core/src/parser/deeply/nested/module-1-7.ts and 4 more\n");
		expect(text).not.toContain("module-1-8.ts");
		expect(text).toContain("\n    - and 12 more\n");
		expect(text.match(/\n {4}- FAIL/g)).toHaveLength(8);
	});

	it("keeps the latest keepRecent iterations in full and summarizes each older one in one line", () => {
		const three = [1, 2, 3].map((n) => facts(n));
		expect(renderMemory(three).match(/^iteration \d+:$/gm)).toEqual(["iteration 1:", "iteration 2:", "iteration 3:"]);

		const four = [1, 2, 3, 4].map((n) => facts(n));
		const text = renderMemory(four);
		expect(text.split("\n")[0]).toBe("iteration 1: tried approach 1; 1 file (+10 -1); verify failed (1 failing)");
		expect(text.match(/^iteration \d+:$/gm)).toEqual(["iteration 2:", "iteration 3:", "iteration 4:"]);

		const latestOnly = renderMemory(four, { keepRecent: 1 });
		expect(latestOnly.split("\n").slice(0, 3)).toEqual([
			"iteration 1: tried approach 1; 1 file (+10 -1); verify failed (1 failing)",
			"iteration 2: tried approach 2; 1 file (+20 -2); verify failed (1 failing)",
			"iteration 3: tried approach 3; 1 file (+30 -3); verify failed (1 failing)",
		]);
		expect(renderMemory(four, { keepRecent: 0 })).not.toContain("  - tried:");
	});

	it("merges the oldest summaries into one line when the summaries alone are too long", () => {
		const six = [1, 2, 3, 4, 5, 6].map((n) => facts(n, { filesChanged: ["src/a.ts", `src/only-${n}.ts`] }));
		six[1] = facts(2, { filesChanged: ["src/a.ts"], verify: { passed: true, exitCode: 0, failing: [] } });
		const roomy = renderMemory(six, { keepRecent: 1 });
		const text = renderMemory(six, { keepRecent: 1, maxChars: roomy.length - 1 });
		expect(text.split("\n").slice(0, 4)).toEqual([
			"iterations 1-2: 2 attempts, 1 passed verify, 1 failed; files touched: src/a.ts, src/only-1.ts",
			"iteration 3: tried approach 3; 2 files (+30 -3); verify failed (1 failing)",
			"iteration 4: tried approach 4; 2 files (+40 -4); verify failed (1 failing)",
			"iteration 5: tried approach 5; 2 files (+50 -5); verify failed (1 failing)",
		]);

		const tight = renderMemory(six, { keepRecent: 1, maxChars: 300 });
		expect(tight.split("\n")[0]).toBe(
			"iterations 1-5: 5 attempts, 1 passed verify, 4 failed; files touched: src/a.ts, src/only-1.ts, src/only-3.ts and 2 more",
		);
		expect(tight.length).toBeLessThanOrEqual(300);
	});

	it.each([4000, 1000])("stays within maxChars %i over 8 long iterations and keeps the latest in full", (maxChars) => {
		const all = Array.from({ length: 8 }, (_, i) => longFacts(i + 1));
		for (let count = 1; count <= all.length; count++) {
			const text = renderMemory(all.slice(0, count), { maxChars });
			expect(text.length).toBeLessThanOrEqual(maxChars);
			expectInFull(text, all[count - 1]!);
		}
		const text = renderMemory(all, { maxChars });
		expect(text.startsWith("iterations 1-")).toBe(true);
	});

	it("never exceeds maxChars, even when the latest iteration alone cannot fit", () => {
		const all = Array.from({ length: 8 }, (_, i) => longFacts(i + 1));
		for (const maxChars of [50, 400]) {
			const text = renderMemory(all, { maxChars });
			expect(text.length).toBeLessThanOrEqual(maxChars);
			expect(text.startsWith("iteration 8:\n  - tried: Iteration 8")).toBe(true);
			expect(text.endsWith("…")).toBe(true);
		}
		expect(renderMemory(all, { maxChars: 1 })).toBe("…");
	});

	it("gives the same text for the same facts, also after a JSON round trip", () => {
		const all = Array.from({ length: 8 }, (_, i) => longFacts(i + 1));
		const replayed = JSON.parse(JSON.stringify(all)) as IterationFacts[];
		for (const options of [{}, { maxChars: 1000 }, { maxChars: 2500, keepRecent: 2 }]) {
			expect(renderMemory(replayed, options)).toBe(renderMemory(all, options));
		}
	});

	it("puts each fact on one line even when a fact holds newlines", () => {
		const text = renderMemory([facts(1, { tried: "split\nthe module", notes: ["a\n\nnote"] })]);
		expect(text).toContain("  - tried: split the module\n");
		expect(text).toContain("  - note: a note");
	});

	it("refuses bad options, saying what it expected and what arrived", () => {
		expect(() => renderMemory([], { maxChars: 0 })).toThrow(
			"Expected `maxChars` to be a whole number from 1 and up, got `0` (number)",
		);
		expect(() => renderMemory([], { keepRecent: 1.5 })).toThrow(
			"Expected `keepRecent` to be a whole number from 0 and up, got `1.5` (number)",
		);
	});
});

describe("failingLines", () => {
	it("picks the failures out of npm + vitest output, without colour codes or heading rules", () => {
		const output = [
			"> app@1.0.0 test",
			"> vitest run",
			"",
			" RUN  v3.2.4 /project",
			"",
			" \u001b[31m❯\u001b[39m tests/parser.test.ts (3 tests | 1 failed) 5ms",
			"   \u001b[32m✓\u001b[39m parser > reads words 1ms",
			"   \u001b[31m×\u001b[39m parser > parses numbers 3ms",
			"     → expected 2 to be 3 // Object.is equality",
			"",
			"⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯",
			"",
			" FAIL  tests/parser.test.ts > parser > parses numbers",
			"AssertionError: expected 2 to be 3 // Object.is equality",
			"",
			" ❯ tests/parser.test.ts:12:20",
			"",
			" Test Files  1 failed (1)",
			"      Tests  1 failed | 2 passed (3)",
			"   Duration  300ms",
		].join("\n");
		expect(failingLines(output)).toEqual([
			"❯ tests/parser.test.ts (3 tests | 1 failed) 5ms",
			"× parser > parses numbers 3ms",
			"Failed Tests 1",
			"FAIL tests/parser.test.ts > parser > parses numbers",
			"AssertionError: expected 2 to be 3 // Object.is equality",
			"Test Files 1 failed (1)",
			"Tests 1 failed | 2 passed (3)",
		]);
	});

	it("picks the failures out of pytest output", () => {
		const output = [
			"============================= test session starts ==============================",
			"collected 3 items",
			"",
			"tests/test_calc.py .F.                                                   [100%]",
			"",
			"=================================== FAILURES ===================================",
			"_________________________________ test_divide __________________________________",
			"",
			"    def test_divide():",
			">       assert divide(6, 3) == 3",
			"E       assert 2.0 == 3",
			"",
			"tests/test_calc.py:9: AssertionError",
			"=========================== short test summary info ============================",
			"FAILED tests/test_calc.py::test_divide - assert 2.0 == 3",
			"========================= 1 failed, 2 passed in 0.03s ==========================",
		].join("\r\n");
		expect(failingLines(output)).toEqual([
			"tests/test_calc.py:9: AssertionError",
			"FAILED tests/test_calc.py::test_divide - assert 2.0 == 3",
			"1 failed, 2 passed in 0.03s",
		]);
	});

	it("picks the failures out of go test output, each once", () => {
		const output = [
			"=== RUN   TestAdd",
			"--- PASS: TestAdd (0.00s)",
			"=== RUN   TestDivide",
			"    calc_test.go:14: Divide(6, 3) = 2.5, want 2",
			"--- FAIL: TestDivide (0.00s)",
			"FAIL",
			"FAIL\texample.com/calc\t0.002s",
			"FAIL",
		].join("\n");
		expect(failingLines(output)).toEqual(["--- FAIL: TestDivide (0.00s)", "FAIL", "FAIL example.com/calc 0.002s"]);
	});

	it("picks the failures out of cargo test output", () => {
		const output = [
			"running 2 tests",
			"test tests::adds ... ok",
			"test tests::divides ... FAILED",
			"",
			"failures:",
			"",
			"---- tests::divides stdout ----",
			"thread 'tests::divides' panicked at src/lib.rs:12:9:",
			"assertion `left == right` failed",
			"  left: 2",
			" right: 3",
			"",
			"failures:",
			"    tests::divides",
			"",
			"test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
			"",
			"error: test failed, to rerun pass `--lib`",
		].join("\n");
		expect(failingLines(output)).toEqual([
			"test tests::divides ... FAILED",
			"thread 'tests::divides' panicked at src/lib.rs:12:9:",
			"assertion `left == right` failed",
			"test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
			"error: test failed, to rerun pass `--lib`",
		]);
	});

	it("falls back to the last non-empty lines when nothing looks like a failure", () => {
		const output = "> app@1.0.0 test\n> node run-tests.js\n\ncompiling...\n\nKilled\n\n";
		expect(failingLines(output)).toEqual(["> app@1.0.0 test", "> node run-tests.js", "compiling...", "Killed"]);
		expect(failingLines(output, 2)).toEqual(["compiling...", "Killed"]);
		expect(failingLines("", 3)).toEqual([]);
		expect(failingLines(output, 0)).toEqual([]);
	});

	it("keeps at most `max` lines, each cut to 160 chars", () => {
		const output = Array.from({ length: 30 }, (_, i) => `not ok ${i + 1} - ${"x".repeat(300)}`).join("\n");
		const lines = failingLines(output);
		expect(lines).toHaveLength(8);
		expect(lines[0]?.startsWith("not ok 1 - x")).toBe(true);
		for (const line of lines) expect(line.length).toBe(160);
		expect(failingLines(output, 3)).toHaveLength(3);
		expect(() => failingLines(output, -1)).toThrow("Expected `max` to be a whole number from 0 and up, got `-1`");
	});
});

describe("progressSignature", () => {
	const base = facts(1, {
		filesChanged: ["src/a.ts", "src/b.ts"],
		insertions: 12,
		deletions: 3,
		verify: { passed: false, exitCode: 1, failing: ["× parser > parses numbers 3ms", "FAIL tests/b.test.ts"] },
	});

	it("is the same for the same files, diff size and failing lines, whatever was tried and in what order", () => {
		const again = facts(2, {
			tried: "a different approach",
			filesChanged: ["src/b.ts", "src/a.ts"],
			insertions: 12,
			deletions: 3,
			verify: { passed: false, exitCode: 2, failing: ["FAIL tests/b.test.ts", "× parser > parses numbers 5ms"] },
		});
		expect(progressSignature(again)).toBe(progressSignature(base));
		expect(progressSignature(JSON.parse(JSON.stringify(base)) as IterationFacts)).toBe(progressSignature(base));
	});

	it.each<[string, Partial<IterationFacts>]>([
		["another file", { filesChanged: ["src/a.ts", "src/c.ts"] }],
		["more insertions", { insertions: 13 }],
		["more deletions", { deletions: 4 }],
		["other failing lines", { verify: { passed: false, exitCode: 1, failing: ["FAIL tests/b.test.ts"] } }],
	])("differs with %s", (_, change) => {
		expect(progressSignature({ ...base, ...change })).not.toBe(progressSignature(base));
	});
});
