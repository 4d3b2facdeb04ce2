// Builtin: the autonomous task loop. DISCOVER maps the code (read-only), then PLAN, ACT and VERIFY repeat until the
// project's own verify command passes in the run's worktree, or a limit stops the loop. Done means the command
// passed, never that a model said so. Each new PLAN gets the verify output and a bounded memory of facts from the
// earlier iterations (what was tried, which files changed, what failed), never a model's reasoning; the same
// state twice in a row stops the loop "no progress". The type shapes what counts as done (a bugfix leaves a test
// that fails without the fix, a feature adds tests, a refactor keeps the tests' result, tests change only
// tests). Nothing touches the user's checkout before the apply gate.

import { workflow } from "pi-workflows";
import { Type } from "typebox";
import { failingLines, type IterationFacts, progressSignature, renderMemory } from "./lib/task-memory.js";
import { isTestFile, proveBugfix } from "./lib/task-rules.js";
import { detectVerifyCommand, verifyCommandProblem } from "./lib/verify-command.js";
import { runVerify, type VerifyOutcome } from "./lib/verify-run.js";

type TaskType = "bugfix" | "feature" | "refactor" | "tests";

const READ_ONLY = ["read", "ls", "grep", "find"];
const WRITE = ["read", "ls", "grep", "find", "edit", "write", "bash"];

const GUIDANCE: Record<TaskType, string> = {
	bugfix: "Fix the bug, and add a test that fails without the fix and passes with it.",
	feature: "Implement the feature, with tests that cover it.",
	refactor: "Change the structure without changing behaviour: the tests must give the same result before and after.",
	tests: "Add tests only: change no file that is not a test.",
};

export default workflow({
	name: "task",
	description:
		"Autonomous task loop: discover, plan, act and verify in a git worktree until the verify command passes, then apply after a yes",
	inputs: {
		goal: Type.String({ minLength: 1, description: "What to do, in a sentence or a paragraph" }),
		type: Type.Optional(
			Type.Union(
				[Type.Literal("bugfix"), Type.Literal("feature"), Type.Literal("refactor"), Type.Literal("tests")],
				{
					description: "bugfix, feature, refactor or tests (default feature)",
				},
			),
		),
		verify: Type.Optional(
			Type.String({ description: "Command that proves the task done by its exit code (detected when absent)" }),
		),
		maxIterations: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: "Default 8" })),
	},
	outputs: {
		verified: Type.Boolean(),
		applied: Type.Boolean(),
		iterations: Type.Integer(),
		verify: Type.String({ description: "The verify command" }),
		patch: Type.String({ description: "The change, as a patch file" }),
		memory: Type.String({ description: "The facts the loop kept" }),
	},
	budget: { maxTurns: 80, maxToolCalls: 300, maxDurationMs: 30 * 60_000 },
	worktree: true,
	run: async (ctx) => {
		const type: TaskType = ctx.inputs.type ?? "feature";
		const maxIterations = ctx.inputs.maxIterations ?? 8;
		const goal = ctx.inputs.goal.trim();
		if (goal === "") return ctx.exit({ status: "failed", reason: "goal: expected what to do, got an empty text" });

		// Which command proves it: given and checked, or detected, recorded once so a resume asks no differently.
		const found = await ctx.tool("verify-command", { given: ctx.inputs.verify ?? null }, () => {
			const given = ctx.inputs.verify?.trim();
			if (given) {
				const problem = verifyCommandProblem(given, ctx.cwd);
				return problem
					? { ok: false as const, error: problem }
					: { ok: true as const, command: given, why: "given" };
			}
			return detectVerifyCommand(ctx.cwd);
		});
		if (!found.ok) return ctx.exit({ status: "failed", reason: found.error });
		const command = found.command;

		// A refactor keeps the tests' result: the base's is measured first.
		const before: VerifyOutcome | undefined =
			type === "refactor"
				? await ctx.tool("verify-before", { command }, () => runVerify(command, ctx.cwd, ctx.runDir, "before"))
				: undefined;
		if (before && !before.passed) {
			return ctx.exit({
				status: "blocked",
				reason: `a refactor keeps behaviour, but "${command}" already fails before any change (exit ${before.exitCode}); fix the tests first`,
			});
		}

		await ctx.task("discover", {
			prompt: [
				`Goal (${type}): ${goal}`,
				"Map the code this touches: the relevant files, what they do, how the tests are run and organised, and the risks.",
				"Read only; change nothing.",
			].join("\n\n"),
			tools: READ_ONLY,
			output: "discover.md",
			outputMode: "file-only",
		});

		const iterations: IterationFacts[] = [];
		let last: VerifyOutcome | undefined;
		let act: Awaited<ReturnType<typeof ctx.task>> | undefined;
		let verified = false;
		for (let iteration = 1; iteration <= maxIterations && !verified; iteration++) {
			const memory = renderMemory(iterations);
			const plan = await ctx.task("plan", {
				prompt: [
					`Goal (${type}): ${goal}`,
					GUIDANCE[type],
					`Done means this command passes in the worktree: ${command}`,
					...(last && !last.passed ? [`The last verify failed (exit ${last.exitCode}):\n${last.output}`] : []),
					...(memory ? [`What earlier iterations did (facts, oldest first):\n${memory}`] : []),
					"Write the plan: the first line says the approach in one sentence; then the files to change and how, and how the verify command will prove it.",
				].join("\n\n"),
				reads: ["discover.md"],
				tools: READ_ONLY,
				output: "plan.md",
			});
			act = await ctx.task("act", {
				prompt: [
					`Goal (${type}): ${goal}`,
					GUIDANCE[type],
					"Implement the plan. Run the tests yourself if that helps.",
				].join("\n\n"),
				reads: ["plan.md"],
				tools: WRITE,
			});
			const outcome = await ctx.tool("verify", { command, iteration }, () =>
				runVerify(command, ctx.cwd, ctx.runDir, String(iteration)),
			);
			last = outcome;
			const files = act.change?.files.map((file) => file.path) ?? [];
			const notes = ruleNotes(type, files, outcome, before);
			let passed = outcome.passed && notes.length === 0;
			if (passed && type === "bugfix") {
				const proof = await ctx.tool("prove-bugfix", { iteration, files }, () =>
					proveBugfix(command, ctx.cwd, ctx.runDir, act?.change?.patchFile ?? "", files),
				);
				if (!proof.proven) {
					passed = false;
					notes.push(proof.reason);
				}
			}
			const facts: IterationFacts = {
				iteration,
				tried: firstLine(plan.text),
				filesChanged: files,
				insertions: act.change?.insertions ?? 0,
				deletions: act.change?.deletions ?? 0,
				verify: { passed: outcome.passed, exitCode: outcome.exitCode, failing: failingLines(outcome.output) },
				...(notes.length > 0 ? { notes } : {}),
			};
			iterations.push(facts);
			verified = passed;
			// The same change and the same failures again: the loop is not getting anywhere.
			if (!verified) ctx.progress(progressSignature(facts), { limit: 2 });
		}
		const memory = renderMemory(iterations);
		if (!verified || !act) {
			return ctx.exit({
				status: "blocked",
				reason: `not verified after ${iterations.length} iteration${iterations.length === 1 ? "" : "s"}: "${command}" ${last?.passed ? "passed, but the task's rules were not met" : `failed (exit ${last?.exitCode})`}`,
				outputs: { verified: false, applied: false, iterations: iterations.length, verify: command, memory },
			});
		}
		const applied = await ctx.apply(act);
		return {
			verified: true,
			applied: applied.applied,
			iterations: iterations.length,
			verify: command,
			patch: act.change?.patchFile ?? "",
			memory,
		};
	},
});

/** What the task's type asks of a change that the verify command alone cannot tell. */
function ruleNotes(type: TaskType, files: string[], outcome: VerifyOutcome, before?: VerifyOutcome): string[] {
	const tests = files.filter(isTestFile);
	const others = files.filter((file) => !isTestFile(file));
	if (files.length === 0) return ["changed no file"];
	if (type === "tests" && others.length > 0)
		return [`a tests task changed files that are not tests: ${others.join(", ")}`];
	if (type === "tests" && tests.length === 0) return ["a tests task added no test"];
	if ((type === "feature" || type === "bugfix") && tests.length === 0) return [`a ${type} must add or change a test`];
	if (type === "refactor" && before && before.passed !== outcome.passed) return ["the tests' result changed"];
	return [];
}

function firstLine(text: string): string {
	const line = text.split("\n").find((candidate) => candidate.trim() !== "") ?? "";
	return line
		.trim()
		.replace(/^#+\s*/, "")
		.slice(0, 200);
}
