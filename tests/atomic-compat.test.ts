// Workflow files written for Atomic run unchanged: they import `workflow` from "@bastani/workflows" (and builtins
// from "@bastani/workflows/builtin"), `Type` from "typebox", and use Atomic's option names. The files are loaded by
// the real loader from a temp project and run against real Pi sessions with the scripted model; an option
// pi-workflows does not have is refused by name, with the file.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AnyWorkflowDefinition } from "../extensions/workflows/authoring/types.js";
import type { WorkflowRun } from "../extensions/workflows/engine/run-driver.js";
import { renderGraph } from "../extensions/workflows/store/graph-text.js";
import { stageGraphNodes } from "../extensions/workflows/store/report-markdown.js";
import { loadWorkflowFile } from "../extensions/workflows/surface/workflow-loader.js";
import type { ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { createHarness, type Harness } from "./support/harness.js";

/** Written from Atomic's API: no name (it comes from the file), `task` for the prompt, a structured plan with a
 * fallback model, a named parallel group that does not fail fast, excluded tools, file handoffs, a command that
 * may fail as data, a gate, and `max_concurrency` as an input. */
const RESEARCH_TOPIC = `
import { workflow } from "@bastani/workflows";
import { Type } from "typebox";

export default workflow({
	description: "Plan a research topic, research its questions side by side, and summarize",
	inputs: {
		topic: Type.String(),
		max_concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
	},
	outputs: { summary: Type.String(), questions: Type.Integer(), approved: Type.Boolean() },
	run: async (ctx) => {
		const plan = await ctx.task("plan", {
			task: "Split " + ctx.inputs.topic + " into questions.",
			schema: Type.Object({ questions: Type.Array(Type.String(), { minItems: 1 }) }),
			fallbackModels: ["scripted/smart"],
			tools: [],
		});
		const questions = plan.structured.questions;
		const found = await ctx.parallel(
			questions.map((question, index) => ({
				name: "research-" + (index + 1),
				task: "Research: " + question,
				excludedTools: ["bash", "edit", "write"],
				output: "research-" + (index + 1) + ".md",
				outputMode: "file-only",
			})),
			{ failFast: false, concurrency: 2, group: "research" },
		);
		const probe = await ctx.tool("probe", { cmd: "false" }, () => {
			throw new Error("the probe failed");
		}, { failureMode: "return" });
		if (probe.ok) ctx.exit({ status: "failed", reason: "the probe should fail" });
		const summary = await ctx.task("summary", {
			task: "Summarize the research.",
			reads: found.map((result) => result.outputPath),
			tools: ["read"],
		});
		const approved = await ctx.ui.confirm("Publish the summary?");
		if (!approved) ctx.exit({ status: "skipped", reason: "not approved", outputs: { approved } });
		return { summary: summary.text, questions: questions.length, approved };
	},
});
`;

/** A stage that continues an earlier Pi session file; a builtin nested from "@bastani/workflows/builtin". */
const CONTINUE_AND_VERIFY = (sessionFile: string) => `
import { workflow } from "@bastani/workflows";
import { verifyClaims } from "@bastani/workflows/builtin";
import { Type } from "typebox";

export default workflow({
	name: "continue-and-verify",
	description: "Continue an earlier session, then verify the claim it makes",
	inputs: {},
	outputs: { answer: Type.String(), decision: Type.String() },
	run: async (ctx) => {
		const next = await ctx.task("continue", {
			task: "Go on from where you stopped.",
			context: "fork",
			forkFromSessionFile: ${JSON.stringify(sessionFile)},
			tools: [],
		});
		const checked = await ctx.workflow(verifyClaims, {
			inputs: { claim: next.text, criteria: ["it is true"], reviewers: 1 },
		});
		return { answer: next.text, decision: String(checked.outputs.decision) };
	},
});
`;

function atomicScript(request: ScriptedRequest) {
	if (request.afterToolResult) return "submitted";
	switch (request.stage) {
		case "plan":
			// The first model answers nothing: the stage moves to its fallback.
			if (request.model === "fast") return "";
			return { toolCalls: [{ name: "submit_result", arguments: { questions: ["why", "how"] } }] };
		case "summary":
			return "SUMMARY of both";
		case "continue":
			return "CONTINUED";
		case "reviewer-1":
			return {
				toolCalls: [
					{
						name: "submit_result",
						arguments: {
							verdict: "pass",
							evidence: ["the transcript says so"],
							criteria: [{ criterion: "it is true", met: true, evidence: "seen" }],
						},
					},
				],
			};
		default:
			return `FOUND for ${request.stage}`;
	}
}

describe("Atomic workflow files", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	function writeWorkflow(file: string, source: string): string {
		const dir = join(harness.cwd, ".pi", "workflows");
		mkdirSync(dir, { recursive: true });
		const path = join(dir, file);
		writeFileSync(path, source);
		return path;
	}

	async function load(path: string): Promise<AnyWorkflowDefinition> {
		const loaded = await loadWorkflowFile(path);
		if (!loaded.ok) throw new Error(loaded.error);
		return loaded.definition;
	}

	function runAnswering(definition: AnyWorkflowDefinition, inputs: unknown, answer: boolean) {
		let run: WorkflowRun | undefined;
		run = harness.start(definition, inputs, {
			onPrompt: (prompt) => queueMicrotask(() => run?.answer(prompt.id, answer)),
		});
		return run.done;
	}

	it("loads an Atomic file unchanged and runs every option it uses", async () => {
		harness = await createHarness(atomicScript);
		const path = writeWorkflow("research-topic.ts", RESEARCH_TOPIC);
		const definition = await load(path);
		// No name in the file: it takes the file's.
		expect(definition.name).toBe("research-topic");
		expect(definition.file).toBe(path);

		const report = await runAnswering(definition, { topic: "caching", max_concurrency: 1 }, true);
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ summary: "SUMMARY of both", questions: 2, approved: true });

		// `task` was the prompt; the plan fell back to its second model and its structured result drove the fan-out.
		const plan = report.stages.find((stage) => stage.id === "plan");
		expect(plan?.attempts.map((attempt) => [attempt.model, attempt.ok])).toEqual([
			["scripted/fast", false],
			["scripted/smart", true],
		]);
		const calls = harness.provider.calls;
		expect(calls.find((call) => call.stage === "research-2")?.transcript.join("\n")).toContain("Research: how");
		// excludedTools took bash, edit and write out of Pi's defaults.
		for (const stage of ["research-1", "research-2"]) {
			expect(calls.find((call) => call.stage === stage)?.tools).toEqual(["read"]);
		}
		// The group names the branches in the report and the graph.
		const research = report.stages.filter((stage) => stage.id.startsWith("research-"));
		expect(research.map((stage) => stage.group)).toEqual(["research", "research"]);
		expect(renderGraph(stageGraphNodes(report.stages))).toContain("┬ 2 in parallel (research)");
		// file-only outputs reached the summary as files, never as text.
		const summary = calls.find((call) => call.stage === "summary")?.transcript.join("\n") ?? "";
		expect(summary).toContain("research-1.md");
		expect(summary).not.toContain("FOUND for research-1");
		// The failing command came back as data (failureMode "return"), so the run went on.
		expect(report.stages.find((stage) => stage.id === "probe")?.status).toBe("failed");
		// max_concurrency is the run's limit on stages in flight, kept for its resumes.
		const started = harness.events(report.runId).find((event) => event.type === "run_started");
		expect(started).toMatchObject({ concurrency: 1 });
	});

	it("ends the run with ctx.exit when the gate says no", async () => {
		harness = await createHarness(atomicScript);
		const definition = await load(writeWorkflow("research-topic.ts", RESEARCH_TOPIC));
		const report = await runAnswering(definition, { topic: "caching" }, false);
		expect(report.status).toBe("skipped");
		expect(report.reason).toBe("not approved");
		expect(report.outputs).toEqual({ approved: false });
	});

	it("forks from a Pi session file and nests a builtin imported from @bastani/workflows/builtin", async () => {
		harness = await createHarness(atomicScript);
		const first = await runAnswering(
			await load(writeWorkflow("research-topic.ts", RESEARCH_TOPIC)),
			{ topic: "caching" },
			true,
		);
		const summaryTranscript = join(
			harness.cwd,
			".pi/workflows/runs",
			first.runId,
			first.stages.find((stage) => stage.id === "summary")?.sessionFile ?? "",
		);
		const definition = await load(writeWorkflow("continue.ts", CONTINUE_AND_VERIFY(summaryTranscript)));
		const report = await harness.run(definition, {});
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ answer: "CONTINUED", decision: "accepted" });
		// The forked stage saw the earlier session's conversation before its own prompt.
		const call = harness.provider.calls.find((entry) => entry.stage === "continue");
		expect(call?.transcript.join("\n")).toContain("SUMMARY of both");
		expect(call?.transcript.at(-1)).toContain("Go on from where you stopped.");
		expect(report.stages.map((stage) => stage.id)).toContain("verify-claims");
	});

	it("refuses options pi-workflows does not have, naming the option and the file", async () => {
		harness = await createHarness(atomicScript);
		const badSpec = writeWorkflow(
			"postgres.ts",
			`import { workflow } from "@bastani/workflows";
export default workflow({ persistence: "postgres", run: async () => ({}) });`,
		);
		const loaded = await loadWorkflowFile(badSpec);
		expect(loaded.ok).toBe(false);
		// Every problem of the declaration, one per line.
		expect(loaded.ok ? "" : loaded.error).toContain(
			'Workflow is not a valid definition:\n- unknown option "persistence": pi-workflows has no such option',
		);
		expect(loaded.ok ? "" : loaded.error).toContain("\n- description: expected a non-empty string, got undefined");

		const badStage = writeWorkflow(
			"retries.ts",
			`import { workflow } from "@bastani/workflows";
export default workflow({
	description: "d",
	run: async (ctx) => { await ctx.task("a", { task: "x", maxRetries: 3 }); return {}; },
});`,
		);
		const report = await harness.run(await load(badStage), {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toContain(
			`stage "a": unknown option "maxRetries": pi-workflows has no such stage option`,
		);
		expect(report.errors.join("\n")).toContain(`(in ${badStage})`);
		// Refused before any model call.
		expect(harness.provider.calls).toHaveLength(0);

		const badName = writeWorkflow(
			"My Flow.ts",
			`import { workflow } from "@bastani/workflows";
export default workflow({ description: "d", run: async () => ({}) });`,
		);
		const unnamed = await loadWorkflowFile(badName);
		expect(unnamed.ok ? "" : unnamed.error).toContain('the file name "My Flow" is not a workflow name');
	});

	it("refuses what is ambiguous or missing, before anything runs", async () => {
		harness = await createHarness(atomicScript);
		const both = await load(
			writeWorkflow(
				"both.ts",
				`import { workflow } from "@bastani/workflows";
export default workflow({
	description: "d",
	run: async (ctx) => { await ctx.task("a", { task: "x", prompt: "y" }); return {}; },
});`,
			),
		);
		const report = await harness.run(both, {});
		expect(report.errors.join("\n")).toContain("task and prompt are one option");

		const missing = await load(
			writeWorkflow(
				"missing-fork.ts",
				`import { workflow } from "@bastani/workflows";
export default workflow({
	description: "d",
	run: async (ctx) => { await ctx.task("a", { task: "x", forkFromSessionFile: "nope.jsonl" }); return {}; },
});`,
			),
		);
		const forked = await harness.run(missing, {});
		expect(forked.errors.join("\n")).toContain(
			`forkFromSessionFile: no session file at ${join(harness.cwd, "nope.jsonl")}`,
		);

		const group = await load(
			writeWorkflow(
				"bad-parallel.ts",
				`import { workflow } from "@bastani/workflows";
export default workflow({
	description: "d",
	run: async (ctx) => { await ctx.parallel([{ name: "a", task: "x" }], { retryFailed: true }); return {}; },
});`,
			),
		);
		const parallel = await harness.run(group, {});
		expect(parallel.errors.join("\n")).toContain('parallel: unknown option "retryFailed"');

		const limit = await load(writeWorkflow("research-topic.ts", RESEARCH_TOPIC));
		expect(() => harness.start(limit, { topic: "x", max_concurrency: 0 })).toThrow(/max_concurrency/);
		expect(harness.provider.calls).toHaveLength(0);
	});
});
