// The `task` builtin end to end in a real git repository with a failing test: DISCOVER, then PLAN, ACT, VERIFY
// until the verify command passes in the run's worktree; the second PLAN gets the failure and the memory; a
// bugfix must leave a test that fails without the fix; the apply gate brings the fix over after a yes. Also the
// iteration limit, no progress, and bad input (an empty goal, no verify command found, one that does not exist).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkflowRun } from "../extensions/workflows/engine/run.js";
import type { ScriptedReply, ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import task from "../workflows/task.js";
import { createHarness, type Harness } from "./support/harness.js";

const BUGGY = "module.exports = (a, b) => a - b;\n";
const FIXED = "module.exports = (a, b) => a + b;\n";
const TEST = `const sum = require("../sum.js");
if (sum(2, 3) !== 5) { console.error("FAIL sum(2, 3) expected 5, got " + sum(2, 3)); process.exit(1); }
console.log("ok");
`;
const VERIFY = "node tests/sum.test.js";

function git(cwd: string, ...args: string[]): string {
	return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

function initRepo(cwd: string, source = BUGGY): void {
	git(cwd, "init", "-q", "-b", "main");
	git(cwd, "config", "user.name", "Test");
	git(cwd, "config", "user.email", "test@example.com");
	writeFileSync(join(cwd, "sum.js"), source);
	mkdirSync(join(cwd, "tests"), { recursive: true });
	writeFileSync(join(cwd, "tests", "sum.test.js"), TEST);
	git(cwd, "add", "-A");
	git(cwd, "commit", "-q", "-m", "init");
}

/** A stage writes these files in one turn, then says it is done. */
function writes(files: Record<string, string>) {
	return (request: ScriptedRequest): ScriptedReply =>
		request.afterToolResult
			? "done"
			: {
					toolCalls: Object.entries(files).map(([path, content]) => ({
						name: "write",
						arguments: { path, content },
					})),
				};
}

const MORE_TESTS = `${TEST}if (sum(1, 1) !== 2) { console.error("FAIL sum(1, 1)"); process.exit(1); }\n`;

describe("the task builtin", () => {
	let harness: Harness;
	let acts: Record<string, (request: ScriptedRequest) => ScriptedReply>;
	beforeEach(async () => {
		acts = {};
		harness = await createHarness((request) => {
			const stage = request.stage ?? "";
			if (stage.startsWith("act")) return (acts[stage] ?? acts.default ?? writes({}))(request);
			if (stage.startsWith("plan")) return `Approach for ${stage}: change sum.js\nFiles: sum.js, tests/sum.test.js`;
			return `map of the code (${stage})`;
		});
	});
	afterEach(() => harness.cleanup());

	const start = (inputs: Record<string, unknown>, answer = true): WorkflowRun => {
		let run: WorkflowRun | undefined;
		run = harness.start(task, inputs, {
			onPrompt: (prompt) => queueMicrotask(() => run?.answer(prompt.id, answer)),
		});
		return run;
	};

	it("fails VERIFY once, plans again with the failure and the memory, fixes it, and applies after a yes", async () => {
		initRepo(harness.cwd);
		acts.act = writes({ "sum.js": "module.exports = (a, b) => a * b;\n", "tests/sum.test.js": MORE_TESTS });
		acts["act-2"] = writes({ "sum.js": FIXED });
		const report = await start({ goal: "sum adds its arguments", type: "bugfix", verify: VERIFY }).done;
		expect(report.status).toBe("completed");
		expect(report.outputs).toMatchObject({ verified: true, applied: true, iterations: 2, verify: VERIFY });
		const stages = harness.provider.calls.map((call) => call.stage);
		expect(stages.filter((stage) => stage?.startsWith("plan"))).toEqual(["plan", "plan-2"]);
		// The second plan was told what failed, and the facts of the first iteration.
		const secondPlan = harness.provider.calls.find((call) => call.stage === "plan-2")?.transcript.join("\n") ?? "";
		expect(secondPlan).toContain("The last verify failed (exit 1)");
		expect(secondPlan).toContain("FAIL sum(2, 3) expected 5, got 6");
		expect(secondPlan).toContain("iteration 1");
		expect(secondPlan).toContain("sum.js");
		// The user's checkout has the fix (and the new test) only after the gate.
		expect(readFileSync(join(harness.cwd, "sum.js"), "utf8")).toBe(FIXED);
		expect(readFileSync(join(harness.cwd, "tests", "sum.test.js"), "utf8")).toBe(MORE_TESTS);
		// The proof ran the tests without the fix and they failed.
		const proof = report.stages.find((stage) => stage.id === "prove-bugfix");
		expect(proof?.status).toBe("completed");
		expect(existsSync(join(harness.cwd, ".pi", "workflows", "runs", report.runId, "artifacts", "verify-2.log"))).toBe(
			true,
		);
	});

	it("nothing reaches the checkout after a no at the gate", async () => {
		initRepo(harness.cwd);
		acts.default = writes({ "sum.js": FIXED, "tests/sum.test.js": MORE_TESTS });
		const report = await start({ goal: "sum adds", type: "bugfix", verify: VERIFY }, false).done;
		expect(report.outputs).toMatchObject({ verified: true, applied: false, iterations: 1 });
		expect(readFileSync(join(harness.cwd, "sum.js"), "utf8")).toBe(BUGGY);
	});

	it("stops at the iteration limit, blocked, with the memory in its outputs", async () => {
		initRepo(harness.cwd);
		// A different wrong attempt each time, so it is not "no progress".
		acts.act = writes({ "sum.js": "module.exports = (a, b) => a * b;\n", "tests/sum.test.js": MORE_TESTS });
		acts["act-2"] = writes({ "sum.js": "module.exports = (a, b) => a * b * 1;\n// still wrong\n" });
		const report = await start({ goal: "sum adds", type: "bugfix", verify: VERIFY, maxIterations: 2 }).done;
		expect(report.status).toBe("blocked");
		expect(report.reason).toContain(`not verified after 2 iterations: "${VERIFY}" failed (exit 1)`);
		expect(String(report.outputs?.memory)).toContain("iteration 2");
		expect(readFileSync(join(harness.cwd, "sum.js"), "utf8")).toBe(BUGGY);
	});

	it("the same attempt twice in a row stops it: no progress", async () => {
		initRepo(harness.cwd);
		acts.default = writes({ "sum.js": "module.exports = (a, b) => a * b;\n", "tests/sum.test.js": MORE_TESTS });
		const report = await start({ goal: "sum adds", type: "bugfix", verify: VERIFY }).done;
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/no progress/);
		expect(
			harness.provider.calls.filter((call) => call.stage?.startsWith("act") && !call.afterToolResult),
		).toHaveLength(2);
	});

	it("a bugfix whose test passes without the fix is not proven", async () => {
		initRepo(harness.cwd, FIXED);
		// The "fix" changes nothing the tests see, and the new test passes either way.
		acts.default = writes({ "sum.js": `// tidy\n${FIXED}`, "tests/extra.test.js": 'console.log("ok");\n' });
		const report = await start({ goal: "sum adds", type: "bugfix", verify: VERIFY, maxIterations: 1 }).done;
		expect(report.status).toBe("blocked");
		expect(report.reason).toContain("passed, but the task's rules were not met");
		expect(String(report.outputs?.memory)).toContain("the tests pass without the fix too");
		expect(readFileSync(join(harness.cwd, "sum.js"), "utf8")).toBe(FIXED);
	});

	it("refuses an empty goal, a project with no verify command, and a verify command that does not exist", async () => {
		initRepo(harness.cwd);
		expect(() => harness.run(task, { goal: "" })).toThrow(/invalid inputs[\s\S]*goal/);
		const none = await harness.run(task, { goal: "sum adds" });
		expect(none.status).toBe("failed");
		expect(none.reason ?? none.errors.join("\n")).toMatch(
			/no verify command given and none found[\s\S]*package\.json/,
		);
		const missing = await harness.run(task, { goal: "sum adds", verify: "no-such-runner-xyz --all" });
		expect(missing.status).toBe("failed");
		expect(missing.reason ?? missing.errors.join("\n")).toContain('"no-such-runner-xyz" was not found');
		expect(harness.provider.calls).toEqual([]);
	});
});
