// The workflow-authoring skill: Pi's skill loader accepts it, its two examples load the way Pi finds a project
// workflow (a file in .pi/workflows, through the catalog and the workflow loader) and run end to end on the
// scripted model, and SKILL.md shows each example exactly as its file holds it.

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSkillsFromDir } from "@mariozechner/pi-coding-agent";
import { afterEach, describe, expect, it } from "vitest";
import type { AnyWorkflowDefinition, InferSchema } from "../extensions/workflows/authoring/types.js";
import type { PendingPrompt } from "../extensions/workflows/engine/calls/prompt-board.js";
import type { WorkflowRun } from "../extensions/workflows/engine/run.js";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import { WorkflowCatalog } from "../extensions/workflows/surface/catalog.js";
import type { ScriptedReply, ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
// Type-only imports: they put the example files into `tsc -p .`, which does not include skills/ by itself.
import type parallelReview from "../skills/workflow-authoring/examples/parallel-review.js";
import type planAndBuild from "../skills/workflow-authoring/examples/plan-and-build.js";
import { createHarness, type Harness } from "./support/harness.js";

type PlanAndBuildOutputs = InferSchema<(typeof planAndBuild)["outputs"]>;
type ParallelReviewOutputs = InferSchema<(typeof parallelReview)["outputs"]>;

const SKILL_DIR = join(process.cwd(), "skills", "workflow-authoring");
const exampleFile = (name: string) => join(SKILL_DIR, "examples", `${name}.ts`);

function git(cwd: string, ...args: string[]): string {
	return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

/** Copies an example into the project's `.pi/workflows`, where a user would save it. */
function installExample(cwd: string, name: string): void {
	const dir = join(cwd, ".pi", "workflows");
	mkdirSync(dir, { recursive: true });
	copyFileSync(exampleFile(name), join(dir, `${name}.ts`));
}

/** Loads a project workflow as Pi does: the catalog lists `.pi/workflows`, then imports the file on first use. */
async function loadProjectWorkflow(harness: Harness, name: string): Promise<AnyWorkflowDefinition> {
	const catalog = new WorkflowCatalog({ cwd: harness.cwd, agentDir: harness.agentDir });
	await catalog.reload();
	const entry = catalog.find(name);
	if (entry?.scope !== "project") throw new Error(`expected a project workflow "${name}", got ${entry?.scope}`);
	const loaded = await catalog.load(entry);
	if (!loaded.definition) throw new Error(`"${name}" did not load: ${loaded.error}`);
	return loaded.definition;
}

/** Starts a run that answers each question it asks with the next of `answers`, and keeps the questions. */
function startAnswering(harness: Harness, definition: AnyWorkflowDefinition, inputs: unknown, answers: unknown[]) {
	const asked: PendingPrompt[] = [];
	let run: WorkflowRun | undefined;
	run = harness.start(definition, inputs, {
		onPrompt: (prompt) =>
			queueMicrotask(() => {
				asked.push(prompt);
				run?.answer(prompt.id, answers[asked.length - 1]);
			}),
	});
	return { run, asked };
}

describe("skills/workflow-authoring/SKILL.md", () => {
	const text = readFileSync(join(SKILL_DIR, "SKILL.md"), "utf8");

	it("loads with Pi's skill loader, named after its folder, with a description", () => {
		const { skills, diagnostics } = loadSkillsFromDir({ dir: join(process.cwd(), "skills"), source: "test" });
		expect(diagnostics).toEqual([]);
		const skill = skills.find((entry) => entry.name === "workflow-authoring");
		expect(skill?.description).toMatch(/writ\w+ workflow files/i);
		expect(text).toMatch(/^---\n+name: workflow-authoring\ndescription: \S/);
	});

	it.each(["plan-and-build", "parallel-review"])(
		"shows examples/%s.ts inline, exactly as the file holds it",
		(name) => {
			const block = new RegExp(`\`examples/${name}\\.ts\`[^\\n]*\\n+\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\n`).exec(text);
			expect(block?.[1]).toBe(readFileSync(exampleFile(name), "utf8"));
		},
	);
});

describe("examples/plan-and-build.ts", () => {
	const GREET = 'export const greet = (name: string) => "hello " + name;\n';
	const PLAN = "1. Add src/greet.ts with greet().\n2. Test: greet says hello.";
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	/** Plans in text; implements by writing src/greet.ts with Pi's `write` tool. */
	function model(request: ScriptedRequest): ScriptedReply {
		if (request.stage === "plan") return PLAN;
		if (request.stage === "implement") {
			if (request.afterToolResult) return "implemented";
			return { toolCalls: [{ name: "write", arguments: { path: "src/greet.ts", content: GREET } }] };
		}
		return `unexpected stage ${request.stage}`;
	}

	/** A git project with one commit that holds the workflow file, as a repository would. */
	async function project(): Promise<AnyWorkflowDefinition> {
		harness = await createHarness(model);
		const { cwd } = harness;
		git(cwd, "init", "-q", "-b", "main");
		git(cwd, "config", "user.name", "Test");
		git(cwd, "config", "user.email", "test@example.com");
		writeFileSync(join(cwd, "README.md"), "# project\n");
		installExample(cwd, "plan-and-build");
		git(cwd, "add", "-A");
		git(cwd, "commit", "-q", "-m", "init");
		return loadProjectWorkflow(harness, "plan-and-build");
	}

	it("plans, asks, builds in a worktree, passes its tests there and applies the patch after a yes", async () => {
		const definition = await project();
		const goal = "add a greet function";
		const { run, asked } = startAnswering(harness, definition, { goal, test: "grep -q hello src/greet.ts" }, [
			"yes",
			"yes",
		]);
		const report = await run.done;
		expect(report.status).toBe("completed");
		const outputs = report.outputs as PlanAndBuildOutputs;
		expect(outputs.applied).toBe(true);
		expect(outputs.patch).toMatch(/artifacts[/\\]implement\.patch$/);
		expect(readFileSync(outputs.patch, "utf8")).toContain("+++ b/src/greet.ts");
		// The plan gate shows the plan; the apply gate shows the change.
		expect(asked.map((prompt) => prompt.kind)).toEqual(["confirm", "confirm"]);
		expect(asked[0]?.message).toBe(`Build this plan?\n\n${PLAN}`);
		expect(asked[1]?.message).toContain("src/greet.ts (+1 -0)");
		// The plan travelled as a file: written to the artifacts, handed to the implement stage to read.
		const planFile = join(runPaths(harness.cwd, report.runId).artifactsDir, "plan.md");
		expect(readFileSync(planFile, "utf8").trim()).toBe(PLAN);
		const implement = harness.provider.calls.find((call) => call.stage === "implement");
		expect(implement?.lastMessage).toContain(planFile);
		expect(implement?.lastMessage).toContain(goal);
		// The tests ran in the worktree (the file was not in the checkout yet), as a recorded node.
		expect(report.stages.find((stage) => stage.kind === "tool")).toMatchObject({ name: "test", status: "completed" });
		// Applied: the file is in the user's checkout now, uncommitted.
		expect(readFileSync(join(harness.cwd, "src", "greet.ts"), "utf8")).toBe(GREET);
		expect(git(harness.cwd, "status", "--porcelain")).toBe("?? src/");
	});

	it("ends failed with nothing applied when the tests fail, and never asks to apply", async () => {
		const definition = await project();
		const { run, asked } = startAnswering(
			harness,
			definition,
			{ goal: "greet", test: "grep -q goodbye src/greet.ts" },
			["yes"],
		);
		const report = await run.done;
		expect(report.status).toBe("failed");
		expect(report.reason).toBe("the tests exit 1: grep -q goodbye src/greet.ts");
		expect(report.outputs).toMatchObject({ applied: false, patch: expect.stringMatching(/implement\.patch$/) });
		expect(asked).toHaveLength(1);
		expect(existsSync(join(harness.cwd, "src", "greet.ts"))).toBe(false);
		expect(git(harness.cwd, "status", "--porcelain")).toBe("");
	});

	it("a no at the plan gate cancels the run before anything is built", async () => {
		const definition = await project();
		const { run } = startAnswering(harness, definition, { goal: "greet", test: "true" }, ["no"]);
		const report = await run.done;
		expect(report.status).toBe("cancelled");
		expect(report.reason).toBe("the plan was not approved");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["plan"]);
	});
});

describe("examples/parallel-review.ts", () => {
	const FINDINGS: Record<string, unknown[]> = {
		correctness: [{ severity: "medium", file: "src/sum.ts", evidence: "sum([]) returns undefined" }],
		security: [{ severity: "high", file: "src/run.ts", evidence: "eval(input) on request data" }],
		tests: [{ severity: "low", file: "test/sum.test.ts", evidence: "no test for an empty list" }],
	};
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	/** Each reviewer submits its findings through `submit_result`; the synthesis answers in text. */
	function model(request: ScriptedRequest): ScriptedReply {
		const findings = request.stage ? FINDINGS[request.stage] : undefined;
		if (findings) {
			if (request.afterToolResult) return "submitted";
			return { toolCalls: [{ name: "submit_result", arguments: { findings } }] };
		}
		if (request.stage === "synthesis") return "Fix the eval in src/run.ts before merging; the rest can wait.";
		return `unexpected stage ${request.stage}`;
	}

	it("reviews in parallel with structured findings, then synthesizes them into typed outputs", async () => {
		harness = await createHarness(model);
		installExample(harness.cwd, "parallel-review");
		const definition = await loadProjectWorkflow(harness, "parallel-review");
		const report = await harness.run(definition, { target: "src" });
		expect(report.status).toBe("completed");
		const outputs = report.outputs as ParallelReviewOutputs;
		// Every finding, most severe first.
		expect(outputs.findings).toEqual([FINDINGS.security?.[0], FINDINGS.correctness?.[0], FINDINGS.tests?.[0]]);
		expect(outputs.high).toBe(1);
		expect(outputs.verdict).toBe("Fix the eval in src/run.ts before merging; the rest can wait.");
		// Reviewers: read-only tools plus submit_result; the synthesis: no tools, the findings in its prompt.
		for (const stage of ["correctness", "security", "tests"]) {
			const first = harness.provider.calls.find((call) => call.stage === stage);
			expect([...(first?.tools ?? [])].sort()).toEqual(["find", "grep", "ls", "read", "submit_result"]);
		}
		const synthesis = harness.provider.calls.find((call) => call.stage === "synthesis");
		expect(synthesis?.tools).toEqual([]);
		expect(synthesis?.lastMessage).toContain(
			[
				"- [high] src/run.ts: eval(input) on request data",
				"- [medium] src/sum.ts: sum([]) returns undefined",
				"- [low] test/sum.test.ts: no test for an empty list",
			].join("\n"),
		);
		// The reviewers ran side by side: the synthesis follows all three.
		const parents = report.stages.find((stage) => stage.id === "synthesis")?.parents;
		expect([...(parents ?? [])].sort()).toEqual(["correctness", "security", "tests"]);
	});
});
