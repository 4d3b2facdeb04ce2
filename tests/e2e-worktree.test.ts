// Worktree isolation end to end with the real `pi` CLI in a real git repository: a stage works in its own
// worktree, print mode stops at the apply gate (the user's checkout untouched, `status` names the kept
// worktree), and `/workflow answer ... yes` in a new process applies the change and removes the worktree.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPiSandbox, type PiSandbox } from "./support/pi-cli.js";

const TEST_TIMEOUT = 120_000;

/** The impl stage writes src/new.ts with the real write tool, then answers; other stages answer plainly. */
const SCRIPT = `export const script = (r) => {
	if (r.stage === "impl" && !r.afterToolResult)
		return { toolCalls: [{ name: "write", arguments: { path: "src/new.ts", content: "export const added = 1;\\n" } }] };
	return "answer of " + r.stage;
};`;

const WORKFLOW = `import { workflow } from "pi-workflows";
import { Type } from "typebox";
export default workflow({
	name: "isolate",
	description: "implements in a worktree, then applies after a yes",
	inputs: {},
	outputs: { applied: Type.Boolean() },
	run: async (ctx) => {
		const impl = await ctx.task("impl", { prompt: "Add src/new.ts", worktree: true });
		const result = await ctx.apply(impl);
		return { applied: result.applied };
	},
});
`;

function git(cwd: string, ...args: string[]): string {
	return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

describe("worktrees with the pi CLI", () => {
	let sandbox: PiSandbox | undefined;
	afterEach(() => {
		sandbox?.cleanup();
		sandbox = undefined;
	});

	it(
		"stops at the apply gate with the checkout untouched; a yes in a new process applies the change",
		async () => {
			const box = createPiSandbox(SCRIPT);
			sandbox = box;
			git(box.cwd, "init", "-q", "-b", "main");
			git(box.cwd, "config", "user.name", "Test");
			git(box.cwd, "config", "user.email", "test@example.com");
			mkdirSync(join(box.cwd, "src"), { recursive: true });
			writeFileSync(join(box.cwd, "src", "app.ts"), "export const app = 1;\n");
			git(box.cwd, "add", "-A");
			git(box.cwd, "commit", "-q", "-m", "init");
			mkdirSync(join(box.agentDir, "workflows"), { recursive: true });
			writeFileSync(join(box.agentDir, "workflows", "isolate.ts"), WORKFLOW);

			const first = await box.run(["-p", "/workflow run isolate"]);
			expect(first.code, first.stderr).toBe(0);
			const runId = /workflow run (\S+) awaiting_input/.exec(first.stdout)?.[1] as string;
			expect(runId).toBeTruthy();
			expect(first.stdout).toContain('prompt confirm (confirm): Apply the change of "impl"');
			expect(first.stdout).toContain("src/new.ts (+1 -0)");
			expect(existsSync(join(box.cwd, "src", "new.ts"))).toBe(false);
			expect(git(box.cwd, "status", "--porcelain")).toBe("");

			const status = await box.run(["-p", `/workflow status ${runId}`]);
			expect(status.code, status.stderr).toBe(0);
			const kept = /worktree of impl: (\S+) \(branch (\S+)\)/.exec(status.stdout);
			expect(kept, status.stdout).not.toBeNull();
			const root = kept?.[1] as string;
			expect(readFileSync(join(root, "src", "new.ts"), "utf8")).toBe("export const added = 1;\n");

			const answered = await box.run(["-p", `/workflow answer ${runId} yes`]);
			expect(answered.code, answered.stderr).toBe(0);
			expect(answered.stdout).toContain(`workflow run ${runId} completed`);
			expect(readFileSync(join(box.cwd, "src", "new.ts"), "utf8")).toBe("export const added = 1;\n");
			// The stage ran once; the run's worktree and branch are gone, its patch stays.
			expect(box.calls().filter((call) => call.stage === "impl")).toHaveLength(2);
			expect(existsSync(root)).toBe(false);
			expect(git(box.cwd, "branch", "--list", kept?.[2] as string)).toBe("");
			const patch = join(box.cwd, ".pi", "workflows", "runs", runId, "artifacts", "impl.patch");
			expect(readFileSync(patch, "utf8")).toContain("+export const added = 1;");
		},
		TEST_TIMEOUT,
	);
});
