// Plan a change, ask before building it, build it in a git worktree, run the tests there, then offer the patch.
// The plan travels as a file (output + reads); the user's checkout changes only after a yes at the apply gate.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { workflow } from "pi-workflows";
import { Type } from "typebox";

const exec = promisify(execFile);

export default workflow({
	name: "plan-and-build",
	description: "Plan a change, confirm the plan, build it in a git worktree, run the tests, offer the patch",
	inputs: {
		goal: Type.String({ description: "The change to make" }),
		test: Type.String({ description: "Shell command that exits 0 when the change works, e.g. npm test" }),
	},
	outputs: {
		applied: Type.Boolean({ description: "Whether the change reached the checkout" }),
		patch: Type.String({ description: "The change as a patch file" }),
	},
	budget: { maxStages: 10, maxTokens: 2_000_000 },
	run: async (ctx) => {
		const plan = await ctx.task("plan", {
			prompt: `Plan this change: ${ctx.inputs.goal}. Name the files to touch and the tests that prove it.`,
			tools: ["read", "grep", "find", "ls"],
			output: "plan.md",
		});
		if (!(await ctx.ui.confirm(`Build this plan?\n\n${plan.text}`))) ctx.cancel("the plan was not approved");

		const impl = await ctx.task("implement", {
			prompt: `Implement the plan (goal: ${ctx.inputs.goal}), with its tests.`,
			reads: ["plan.md"],
			worktree: true,
		});
		const patch = impl.change?.patchFile ?? "";
		// Run the tests where the change is: the stage's worktree, kept until the run ends.
		const where = impl.change?.worktree ?? ctx.cwd;
		const tests = await ctx.tool(
			"test",
			{ command: ctx.inputs.test },
			async ({ command }, { signal }) => (await exec("sh", ["-c", command], { cwd: where, signal })).stdout,
			{ failureMode: "return", idempotent: true, timeoutMs: 10 * 60_000 },
		);
		if (!tests.ok) {
			ctx.exit({
				status: "failed",
				reason: `the tests exit ${tests.error.exitCode ?? "abnormally"}: ${ctx.inputs.test}`,
				outputs: { applied: false, patch },
			});
		}

		const applied = await ctx.apply(impl); // shows the change, asks, applies all of it or nothing
		return { applied: applied.applied, patch };
	},
});
