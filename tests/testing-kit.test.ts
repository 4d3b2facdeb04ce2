// The testing kit runs a workflow for real against a scripted model: answers by stage, by prompt or in order, tool
// calls, provider errors, structured submissions and scripted gate answers; a script that runs out of answers, or a
// question without one, fails the test naming the stage and the call (or the question).

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "typebox";
import { describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { scripted, testWorkflow } from "../extensions/workflows/testing/index.js";

const planAndWrite = workflow({
	name: "plan-and-write",
	description: "a structured plan, a stage that writes a file with a tool, a question, a summary",
	outputs: { steps: Type.Integer(), summary: Type.String() },
	run: async (ctx) => {
		const plan = await ctx.task("plan", {
			prompt: "Plan the notes.",
			schema: Type.Object({ steps: Type.Array(Type.String()) }),
			tools: [],
		});
		await ctx.task("write", { prompt: "Write notes.md with the plan.", tools: ["write"] });
		if (!(await ctx.ui.confirm("Summarize?"))) ctx.cancel("no summary");
		const summary = await ctx.task("summary", { prompt: "Summarize notes.md.", fallbackModels: ["scripted/smart"] });
		return { steps: plan.structured.steps.length, summary: summary.text };
	},
});

describe("testWorkflow and scripted", () => {
	it("answers by stage: submissions, tool calls, an empty answer that moves to the fallback, a gate answer", async () => {
		const run = await testWorkflow(planAndWrite, {
			model: scripted.byStage({
				plan: scripted.submit({ steps: ["a", "b", "c"] }),
				write: [scripted.toolCall("write", { path: "notes.md", content: "a, b, c" }), "wrote it"],
				summary: (request) => (request.model === "fast" ? "" : "three steps"),
			}),
			answers: { confirm: true },
		});
		try {
			expect(run.report.status).toBe("completed");
			expect(run.report.outputs).toEqual({ steps: 3, summary: "three steps" });
			expect(readFileSync(join(run.cwd, "notes.md"), "utf8")).toBe("a, b, c");
			expect(run.calls("write").map((call) => call.afterToolResult)).toEqual([false, true]);
			expect(run.calls("summary").map((call) => call.model)).toEqual(["fast", "smart"]);
			expect(run.report.prompts).toEqual([expect.objectContaining({ id: "confirm", answer: true })]);
		} finally {
			run.cleanup();
		}
		expect(existsSync(run.cwd)).toBe(false);
	});

	it("plays a provider error as the provider would send it", async () => {
		const run = await testWorkflow(planAndWrite, {
			model: scripted.byStage({ plan: scripted.error("400 invalid request: no plan today") }),
		});
		expect(run.report.status).toBe("failed");
		expect(run.report.errors).toEqual([
			'Workflow "plan-and-write", stage "plan": 400 invalid request: no plan today',
		]);
		run.cleanup();
	});

	it("answers by prompt and in order, and gives the report and the calls of each stage", async () => {
		const byPrompt = await testWorkflow(planAndWrite, {
			model: scripted.byPrompt([
				["Plan the notes", scripted.submit({ steps: ["one"] })],
				[/Write notes\.md/, "skipped the file"],
				["Summarize", "one step"],
			]),
			answers: (prompt) => prompt.kind === "confirm",
		});
		expect(byPrompt.report.outputs).toEqual({ steps: 1, summary: "one step" });
		byPrompt.cleanup();
		const inOrder = await testWorkflow(planAndWrite, {
			model: scripted.inOrder([scripted.submit({ steps: ["x", "y"] }), "no file", "two steps"]),
			answers: { confirm: true },
		});
		expect(inOrder.report.outputs).toEqual({ steps: 2, summary: "two steps" });
		expect(inOrder.allCalls.map((call) => call.stage)).toEqual(["plan", "plan", "write", "summary"]);
		inOrder.cleanup();
	});

	it("fails naming the stage and the call when the script runs out, or a question has no answer", async () => {
		await expect(
			testWorkflow(planAndWrite, {
				model: scripted.byStage({ plan: [scripted.submit({ steps: [] })], write: [] }),
				answers: { confirm: true },
			}),
		).rejects.toThrow(
			'testWorkflow "plan-and-write": scripted model: no answer left for stage "write" (call 1; the script gives 0)',
		);
		await expect(
			testWorkflow(planAndWrite, { model: scripted.byStage({ plan: scripted.submit({ steps: [] }) }) }),
		).rejects.toThrow('no answer for stage "write" (call 1; the script answers plan)');
		await expect(
			testWorkflow(planAndWrite, {
				model: scripted.byStage({ plan: scripted.submit({ steps: [] }) }, "fine"),
			}),
		).rejects.toThrow('question "confirm" (confirm: Summarize?) has no scripted answer');
	});

	it("the README's example test is the file the suite runs", () => {
		const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
		const marker = "<!-- testing-kit-example: tests/kit-example.test.ts -->\n```ts\n";
		const start = readme.indexOf(marker);
		expect(start).toBeGreaterThan(0);
		const block = readme.slice(start + marker.length, readme.indexOf("```\n", start + marker.length));
		expect(block).toBe(readFileSync(fileURLToPath(new URL("kit-example.test.ts", import.meta.url)), "utf8"));
	});
});
