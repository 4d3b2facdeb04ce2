// Worktree stages in real git repositories: a stage with `worktree: true` (or a workflow with `worktree`) works
// in a worktree made from the user's HEAD, its edits land there and never in the user's checkout, parallel
// worktrees are isolated, its change is saved as a patch and summarized, `ctx.apply` brings it over only after a
// yes (all or nothing, never twice), and the worktrees go when the run ends for good unless kept.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApplyResult, StageResult, WorktreeOptions } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import type { PendingPrompt } from "../extensions/workflows/engine/calls/prompt-board.js";
import type { WorkflowRun } from "../extensions/workflows/engine/run.js";
import { inWorktree } from "../extensions/workflows/engine/worktrees.js";
import type { ScriptedReply, ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { createHarness, type Harness } from "./support/harness.js";

function git(cwd: string, ...args: string[]): string {
	return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

/** The project as a git repository on branch "feature" (not the default branch), one commit. */
function initRepo(cwd: string): void {
	git(cwd, "init", "-q", "-b", "main");
	git(cwd, "config", "user.name", "Test");
	git(cwd, "config", "user.email", "test@example.com");
	writeFileSync(join(cwd, "README.md"), "# project\n");
	writeFileSync(join(cwd, "AGENTS.md"), "Project rules.\n");
	mkdirSync(join(cwd, "src"), { recursive: true });
	writeFileSync(join(cwd, "src", "app.ts"), "export const app = 1;\n");
	git(cwd, "add", "-A");
	git(cwd, "commit", "-q", "-m", "init");
	git(cwd, "checkout", "-q", "-b", "feature");
	writeFileSync(join(cwd, "src", "feature.ts"), "export const feature = true;\n");
	git(cwd, "add", "-A");
	git(cwd, "commit", "-q", "-m", "feature");
}

/** A stage that writes `path` with `content` (a real `write` tool call), then answers. */
function writes(path: string, content: string) {
	return (request: ScriptedRequest): ScriptedReply =>
		request.afterToolResult ? `wrote ${path}` : { toolCalls: [{ name: "write", arguments: { path, content } }] };
}

function oneStage(options: { worktree?: boolean | WorktreeOptions; apply?: boolean; confirm?: boolean } = {}) {
	return workflow({
		name: "isolated",
		description: "one stage in a worktree, then maybe apply",
		inputs: {},
		outputs: { applied: Type.Boolean() },
		run: async (ctx) => {
			const impl = await ctx.task("impl", {
				prompt: `Implement it in ${ctx.cwd}/src`,
				worktree: options.worktree ?? true,
			});
			if (!options.apply) return { applied: false };
			const result: ApplyResult = await ctx.apply(impl, { confirm: options.confirm ?? true });
			return { applied: result.applied };
		},
	});
}

describe("worktree stages", () => {
	let harness: Harness;
	let script: (request: ScriptedRequest) => ScriptedReply;
	beforeEach(async () => {
		script = writes("src/new.ts", "export const added = 1;\n");
		harness = await createHarness((request) => script(request));
		initRepo(harness.cwd);
	});
	afterEach(() => harness.cleanup());

	const startAnswering = (definition: ReturnType<typeof oneStage>, answer: unknown, keepWorktrees = false) => {
		let run: WorkflowRun | undefined;
		const asked: PendingPrompt[] = [];
		run = harness.start(
			definition,
			{},
			{
				keepWorktrees,
				onPrompt: (prompt) =>
					queueMicrotask(() => {
						asked.push(prompt);
						run?.answer(prompt.id, answer);
					}),
			},
		);
		return { run, asked };
	};

	it("works in a worktree made from HEAD: its edits land there, the user's checkout is untouched", async () => {
		const report = await harness.run(oneStage(), {}, { keepWorktrees: true });
		expect(report.status).toBe("completed");
		const stage = report.stages.find((entry) => entry.id === "impl");
		const root = stage?.worktree?.root as string;
		expect(root).toBeTruthy();
		expect(readFileSync(join(root, "src", "new.ts"), "utf8")).toBe("export const added = 1;\n");
		// Made from the user's HEAD (branch feature), not from main.
		expect(existsSync(join(root, "src", "feature.ts"))).toBe(true);
		expect(existsSync(join(harness.cwd, "src", "new.ts"))).toBe(false);
		expect(git(harness.cwd, "status", "--porcelain")).toBe("");
		expect(git(harness.cwd, "branch", "--show-current")).toBe("feature");
		// Everything the stage was told about where it is names the worktree.
		const request = harness.provider.calls[0] as ScriptedRequest;
		expect(request.systemPrompt).toContain(root);
		expect(request.transcript.join("\n")).toContain(`Implement it in ${harness.cwd}/src`.replace(harness.cwd, root));
		// Context files come from the worktree's own copy, not the user's checkout above it.
		expect(request.systemPrompt).toContain(join(root, "AGENTS.md"));
		expect(request.systemPrompt).not.toContain(`${join(harness.cwd, "AGENTS.md")}`);
		expect(report.worktrees).toEqual([{ node: "impl", root, branch: stage?.worktree?.branch }]);
	});

	it("saves the change as a patch artifact and summarizes it in the result", async () => {
		let result: StageResult | undefined;
		const flow = workflow({
			name: "patch",
			description: "keeps the result",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				result = await ctx.task("impl", { prompt: "Implement", worktree: true });
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(report.status).toBe("completed");
		const change = result?.change;
		expect(change).toMatchObject({ insertions: 1, deletions: 0 });
		expect(change?.files).toEqual([{ path: "src/new.ts", insertions: 1, deletions: 0, status: "added" }]);
		const patch = readFileSync(change?.patchFile as string, "utf8");
		expect(patch).toContain("+++ b/src/new.ts");
		expect(patch).toContain("+export const added = 1;");
		expect(report.artifacts.some((path) => path.endsWith("impl.patch"))).toBe(true);
		expect(report.stages.find((stage) => stage.id === "impl")?.change).toMatchObject({ files: 1, insertions: 1 });
		// The run completed: its worktree and branch are gone, the patch stays.
		expect(existsSync(change?.worktree as string)).toBe(false);
		expect(git(harness.cwd, "branch", "--list", change?.branch as string)).toBe("");
		expect(existsSync(change?.patchFile as string)).toBe(true);
		expect(report.worktrees).toBeUndefined();
	});

	it("parallel stages in separate worktrees never see each other's changes", async () => {
		script = (request) => {
			const own = request.stage === "left" ? "src/left.ts" : "src/right.ts";
			if (!request.afterToolResult)
				return { toolCalls: [{ name: "write", arguments: { path: own, content: "x\n" } }] };
			return `wrote ${own}`;
		};
		const results: StageResult[] = [];
		const flow = workflow({
			name: "sides",
			description: "two worktree stages side by side",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				results.push(
					...(await ctx.parallel([
						{ name: "left", prompt: "Left", worktree: true },
						{ name: "right", prompt: "Right", worktree: true },
					])),
				);
				return {};
			},
		});
		const report = await harness.run(flow, {}, { keepWorktrees: true });
		expect(report.status).toBe("completed");
		const [left, right] = results;
		expect(left?.change?.files.map((file) => file.path)).toEqual(["src/left.ts"]);
		expect(right?.change?.files.map((file) => file.path)).toEqual(["src/right.ts"]);
		expect(existsSync(join(left?.change?.worktree as string, "src", "right.ts"))).toBe(false);
		expect(existsSync(join(right?.change?.worktree as string, "src", "left.ts"))).toBe(false);
		expect(left?.change?.worktree).not.toBe(right?.change?.worktree);
	});

	it("applies the change to the user's checkout after a yes, and never twice", async () => {
		const { run, asked } = startAnswering(oneStage({ apply: true }), true);
		const report = await run.done;
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ applied: true });
		expect(asked).toHaveLength(1);
		expect(asked[0]?.message).toContain("1 file, +1 -0");
		expect(asked[0]?.message).toContain("src/new.ts (+1 -0)");
		expect(readFileSync(join(harness.cwd, "src", "new.ts"), "utf8")).toBe("export const added = 1;\n");
		// The apply is a node of its own, its gate inside it.
		expect(report.stages.find((stage) => stage.kind === "apply")).toMatchObject({
			id: "apply-impl",
			parents: ["impl"],
		});
		expect(report.stages.find((stage) => stage.kind === "prompt")).toMatchObject({ within: "apply-impl" });
		// A resume of the completed run does nothing again.
		const again = await harness.resume(oneStage({ apply: true }), run.runId).done;
		expect(again.status).toBe("completed");
		const applies = harness.events(run.runId).filter((e) => e.type === "node_started" && e.kind === "apply");
		expect(applies).toHaveLength(1);
	});

	it("applies nothing after a no", async () => {
		const { run } = startAnswering(oneStage({ apply: true }), false);
		const report = await run.done;
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ applied: false });
		expect(existsSync(join(harness.cwd, "src", "new.ts"))).toBe(false);
		expect(git(harness.cwd, "status", "--porcelain")).toBe("");
	});

	it("a patch for files that changed meanwhile is refused whole, the conflicts listed", async () => {
		script = (request) => {
			if (request.afterToolResult && request.lastMessage.includes("Successfully")) {
				if (request.stageCall === 2)
					return { toolCalls: [{ name: "write", arguments: { path: "README.md", content: "# changed\n" } }] };
				return "done";
			}
			return { toolCalls: [{ name: "write", arguments: { path: "src/new.ts", content: "new\n" } }] };
		};
		const flow = workflow({
			name: "conflict",
			description: "the user's file changes before the apply",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				const impl = await ctx.task("impl", { prompt: "Implement", worktree: true });
				await ctx.tool("user-edits", {}, () => {
					writeFileSync(join(harness.cwd, "README.md"), "# the user's own change\n");
					return true;
				});
				await ctx.apply(impl, { confirm: false });
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(report.status).toBe("failed");
		const error = report.errors.join("\n");
		expect(error).toContain("README.md");
		// Nothing half-applied: the new file did not land either.
		expect(existsSync(join(harness.cwd, "src", "new.ts"))).toBe(false);
		expect(readFileSync(join(harness.cwd, "README.md"), "utf8")).toBe("# the user's own change\n");
		// A failed run keeps its worktree, and says where it is.
		expect(report.worktrees?.[0]?.node).toBe("impl");
	});

	it("a whole-run worktree: every stage works in it, ctx.cwd names it, a resume works on in it", async () => {
		let failSecond = true;
		script = (request) => {
			if (request.stage === "second" && failSecond) return { error: "401 unauthorized" };
			return writes(`src/${request.stage}.ts`, `${request.stage}\n`)(request);
		};
		const cwds: string[] = [];
		const flow = workflow({
			name: "whole",
			description: "two stages in the run's worktree",
			inputs: {},
			outputs: {},
			worktree: true,
			run: async (ctx) => {
				cwds.push(ctx.cwd);
				await ctx.task("first", { prompt: `First, in ${ctx.cwd}/src`, output: "first.md" });
				const second = await ctx.task("second", { prompt: "Second" });
				// The change of the run so far, from the worktree's base: both stages' files.
				return second.change?.files.length === 2 ? {} : ctx.exit({ status: "failed", reason: "change incomplete" });
			},
		});
		const first = await harness.run(flow, {}, { retry: { enabled: false } });
		expect(first.status).toBe("blocked");
		const root = first.worktrees?.[0]?.root as string;
		expect(cwds[0]).toBe(root);
		expect(existsSync(join(root, "src", "first.ts"))).toBe(true);
		// Paths that already name the worktree, and the run's artifacts, reach the stage as they are.
		const told = harness.provider.calls.find((call) => call.stage === "first")?.transcript.join("\n") ?? "";
		expect(told).toContain(`First, in ${root}/src`);
		expect(told).toContain(join(harness.cwd, ".pi", "workflows", "runs", first.runId, "artifacts", "first.md"));
		failSecond = false;
		harness.provider.calls.length = 0;
		const resumed = await harness.resume(flow, first.runId).done;
		expect(resumed.status).toBe("completed");
		expect(cwds[1]).toBe(root);
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["second", "second"]);
		expect(existsSync(join(harness.cwd, "src", "first.ts"))).toBe(false);
		expect(existsSync(root)).toBe(false);
	});

	it("a multi-turn stage keeps one worktree for its conversation, also across a resume", async () => {
		let stopAfterFirst = true;
		script = (request) => writes(`src/${request.stage?.replace("/", "-")}.ts`, "x\n")(request);
		const changes: StageResult[] = [];
		const flow = workflow({
			name: "talks",
			description: "two prompts in one worktree, a failing check between them the first time",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				const impl = ctx.stage("impl", { worktree: true });
				changes.push(await impl.prompt("First part"));
				if (stopAfterFirst) ctx.exit({ status: "blocked", reason: "a break between prompts" });
				changes.push(await impl.prompt("Second part"));
				await impl.close();
				return {};
			},
		});
		const first = await harness.run(flow, {});
		expect(first.status).toBe("blocked");
		const root = first.worktrees?.[0]?.root as string;
		expect(first.worktrees?.[0]?.node).toBe("impl");
		expect(existsSync(join(root, "src", "impl-1.ts"))).toBe(true);
		stopAfterFirst = false;
		harness.provider.calls.length = 0;
		changes.length = 0;
		const resumed = await harness.resume(flow, first.runId, { keepWorktrees: true }).done;
		expect(resumed.status).toBe("completed");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["impl/2", "impl/2"]);
		// The second prompt worked in the same worktree: its change holds both prompts' files.
		expect(changes[1]?.change?.worktree).toBe(root);
		expect(changes[1]?.change?.files.map((file) => file.path)).toEqual(["src/impl-1.ts", "src/impl-2.ts"]);
		expect(existsSync(join(harness.cwd, "src", "impl-1.ts"))).toBe(false);
	});

	it("a stage's tools cannot write into the user's checkout from its worktree", async () => {
		const target = join(harness.cwd, "README.md");
		script = (request) =>
			request.afterToolResult
				? "tried"
				: {
						toolCalls: [
							{ name: "write", arguments: { path: target, content: "escaped\n" } },
							{ name: "bash", arguments: { command: `echo escaped > ${target}` } },
						],
					};
		const report = await harness.run(oneStage(), {});
		expect(report.status).toBe("completed");
		expect(readFileSync(target, "utf8")).toBe("# project\n");
		const results = harness.provider.calls[1]?.transcript.join("\n") ?? "";
		expect(results).toContain("refused");
	});
});

describe("inWorktree", () => {
	const worktree = {
		root: "/repo/.pi/workflows/runs/r1/worktrees/impl",
		repoRoot: "/repo",
		cwd: "/repo/.pi/workflows/runs/r1/worktrees/impl",
		branch: "pi-workflows/r1/impl",
		baseCommit: "abc",
		link: [],
	};
	const runs = "/repo/.pi/workflows/runs";

	it("names the worktree for paths in the user's checkout, and leaves the runs folder and look-alikes alone", () => {
		expect(inWorktree("Fix /repo/src/a.ts and /repo.", worktree, runs)).toBe(
			`Fix ${worktree.root}/src/a.ts and ${worktree.root}.`,
		);
		expect(inWorktree("Save to /repo/.pi/workflows/runs/r1/artifacts/o.md", worktree, runs)).toBe(
			"Save to /repo/.pi/workflows/runs/r1/artifacts/o.md",
		);
		expect(inWorktree(`Work in ${worktree.root}/src`, worktree, runs)).toBe(`Work in ${worktree.root}/src`);
		expect(inWorktree("Not /repo2/x nor /repository", worktree, runs)).toBe("Not /repo2/x nor /repository");
	});
});

describe("worktree bad input", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness(writes("src/new.ts", "x\n"));
	});
	afterEach(() => harness.cleanup());

	it("outside a git repository: a clear error, no model call", async () => {
		const report = await harness.run(oneStage(), {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toMatch(/not a git repository/);
		expect(harness.provider.calls).toEqual([]);
	});

	it("a dirty tree without carry is refused, with carry its changes come along", async () => {
		initRepo(harness.cwd);
		writeFileSync(join(harness.cwd, "README.md"), "# dirty\n");
		const refused = await harness.run(oneStage(), {});
		expect(refused.status).toBe("failed");
		expect(refused.errors.join("\n")).toContain('Workflow "isolated", stage "impl": its worktree: ');
		expect(refused.errors.join("\n")).toContain("uncommitted changes");
		expect(refused.errors.join("\n")).toContain("README.md");
		expect(readFileSync(join(harness.cwd, "README.md"), "utf8")).toBe("# dirty\n");
		expect(harness.provider.calls).toEqual([]);
		const carried = await harness.run(oneStage({ worktree: { carry: true } }), {}, { keepWorktrees: true });
		expect(carried.status).toBe("completed");
		const root = carried.worktrees?.[0]?.root as string;
		expect(readFileSync(join(root, "README.md"), "utf8")).toBe("# dirty\n");
		// The carried changes are the base: the stage's patch holds only its own file.
		expect(carried.stages.find((stage) => stage.id === "impl")?.change).toMatchObject({ files: 1 });
	});

	it("a base ref that does not exist is named", async () => {
		initRepo(harness.cwd);
		const report = await harness.run(oneStage({ worktree: { base: "no-such-branch" } }), {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toContain('"no-such-branch"');
		expect(harness.provider.calls).toEqual([]);
	});

	it("a folder at the worktree's path that is not this run's is left alone", async () => {
		initRepo(harness.cwd);
		let squatter = "";
		const flow = workflow({
			name: "squatted",
			description: "something else sits where the stage's worktree goes",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				squatter = join(ctx.runDir, "worktrees", "impl");
				mkdirSync(squatter, { recursive: true });
				writeFileSync(join(squatter, "mine.txt"), "keep me\n");
				await ctx.task("impl", { prompt: "Implement", worktree: true });
				return {};
			},
		});
		const report = await harness.run(flow, {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toContain("already exists and is not a worktree of this run");
		expect(readFileSync(join(squatter, "mine.txt"), "utf8")).toBe("keep me\n");
		expect(harness.provider.calls).toEqual([]);
	});

	it("a worktree option that is not one is refused before anything runs", async () => {
		initRepo(harness.cwd);
		const report = await harness.run(oneStage({ worktree: { bsae: "main" } as never }), {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toContain('worktree: unknown key "bsae"; expected base, carry, link');
	});
});
