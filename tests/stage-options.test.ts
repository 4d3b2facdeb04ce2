// Stage options that change what the model sees: fork vs fresh context, the tool allow-list,
// system prompt additions, file-only outputs, and provider errors.

import { readFileSync } from "node:fs";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";

describe("stage options", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("a forked stage sees the earlier stage's messages; a fresh one does not", async () => {
		harness = await createHarness((request) =>
			request.stage === "explore" ? "EXPLORE-FINDINGS: cache is stale" : "ok",
		);
		const definition = workflow({
			name: "fork-test",
			description: "fork and fresh",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.task("explore", { prompt: "Explore the cache" });
				await ctx.task("forked", { prompt: "Fix what you found", context: "fork" });
				await ctx.task("fresh", { prompt: "Fix the cache" });
				await ctx.task("named-fork", { prompt: "Again", context: "fork", forkFrom: "explore" });
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("completed");
		const seen = (stage: string) =>
			harness.provider.calls.find((call) => call.stage === stage)?.transcript.join("\n") ?? "";
		expect(seen("forked")).toContain("EXPLORE-FINDINGS: cache is stale");
		expect(seen("forked")).toContain("Explore the cache");
		expect(seen("named-fork")).toContain("EXPLORE-FINDINGS: cache is stale");
		expect(seen("fresh")).not.toContain("EXPLORE-FINDINGS");
		// The fork is a transcript of its own; the source transcript is untouched.
		const forked = report.stages.find((stage) => stage.id === "forked");
		expect(forked?.sessionFile).toBe("stages/forked.jsonl");
		// Usage counts only the fork's own model calls.
		expect(forked?.usage.turns).toBe(1);
	});

	it("fork without a single parent says which stage to name", async () => {
		harness = await createHarness(() => "ok");
		const definition = workflow({
			name: "fork-ambiguous",
			description: "two parents",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.parallel([
					{ name: "a", prompt: "A" },
					{ name: "b", prompt: "B" },
				]);
				await ctx.task("merge", { prompt: "Merge", context: "fork" });
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toContain('Workflow "fork-ambiguous", stage "merge"');
		expect(report.errors[0]).toContain('name one with "forkFrom"');
	});

	it("the tool allow-list is exactly the model's tool list, and unknown tools fail before any call", async () => {
		harness = await createHarness(() => "ok");
		const definition = workflow({
			name: "tools-test",
			description: "allow-lists",
			inputs: { tools: Type.Array(Type.String()) },
			outputs: {},
			run: async (ctx) => {
				await ctx.task("reader", { prompt: "Read", tools: ctx.inputs.tools });
				await ctx.task("default-tools", { prompt: "Anything" });
				return {};
			},
		});
		const report = await harness.run(definition, { tools: ["read", "grep"] });
		expect(report.status).toBe("completed");
		const toolsOf = (stage: string) => harness.provider.calls.find((call) => call.stage === stage)?.tools;
		expect(toolsOf("reader")?.sort()).toEqual(["grep", "read"]);
		expect(toolsOf("default-tools")?.sort()).toEqual(["bash", "edit", "read", "write"]);

		const calls = harness.provider.calls.length;
		const bad = await harness.run(definition, { tools: ["read", "teleport"] });
		expect(bad.status).toBe("failed");
		expect(bad.errors[0]).toContain('stage "reader": unknown tool "teleport" (available:');
		expect(harness.provider.calls).toHaveLength(calls);
	});

	it("appends systemPrompt to the stage's system prompt", async () => {
		harness = await createHarness(() => "ok");
		const definition = workflow({
			name: "system-prompt",
			description: "append",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.task("strict", { prompt: "Go", systemPrompt: "ALWAYS-ANSWER-IN-HAIKU" });
				return {};
			},
		});
		await harness.run(definition, {});
		expect(harness.provider.calls[0]?.systemPrompt).toContain("ALWAYS-ANSWER-IN-HAIKU");
	});

	it("file-only returns a reference, inline returns the text; both write the output file", async () => {
		harness = await createHarness((request) => `BODY OF ${request.stage}`);
		let texts: string[] = [];
		const definition = workflow({
			name: "outputs",
			description: "output modes",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				const fileOnly = await ctx.task("notes", {
					prompt: "Notes",
					output: "notes/notes.md",
					outputMode: "file-only",
				});
				const inline = await ctx.task("summary", { prompt: "Summary", output: "summary.md" });
				texts = [fileOnly.text, inline.text];
				expect(readFileSync(fileOnly.outputPath ?? "", "utf8")).toBe("BODY OF notes");
				expect(readFileSync(inline.outputPath ?? "", "utf8")).toBe("BODY OF summary");
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("completed");
		expect(texts[0]).not.toContain("BODY OF notes");
		expect(texts[0]).toContain("artifacts/notes/notes.md");
		expect(texts[1]).toBe("BODY OF summary");
		expect(report.artifacts.sort()).toEqual(["artifacts/notes/notes.md", "artifacts/summary.md"]);
	});

	it("an auth error fails the stage and blocks the run with the provider's message", async () => {
		harness = await createHarness((request) =>
			request.stage === "second" ? { error: "401 invalid x-api-key for scripted" } : "first done",
		);
		const definition = workflow({
			name: "provider-error",
			description: "second stage hits an auth error",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.task("first", { prompt: "One" });
				await ctx.task("second", { prompt: "Two" });
				await ctx.task("third", { prompt: "Three" });
				return {};
			},
		});
		const report = await harness.run(definition, {});
		// An auth error no fallback got past: the provider's circuit opens and the run is blocked, not failed.
		expect(report.status).toBe("blocked");
		expect(report.reason).toMatch(/^provider "scripted" refused the run \(auth\)/);
		expect(report.errors[0]).toBe('Workflow "provider-error", stage "second": 401 invalid x-api-key for scripted');
		expect(report.stages.map((stage) => [stage.id, stage.status])).toEqual([
			["first", "completed"],
			["second", "failed"],
		]);
		expect(report.stages[1]?.attempts).toMatchObject([
			{ model: "scripted/fast", ok: false, error: "401 invalid x-api-key for scripted", kind: "auth" },
		]);
		// The first stage's receipts survive the failure.
		expect(report.stages[0]?.usage.turns).toBe(1);
		expect(harness.provider.calls.some((call) => call.stage === "third")).toBe(false);
	});
});

describe("transient provider errors", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("are retried by Pi inside the stage, which then completes", async () => {
		harness = await createHarness((request) =>
			request.stageCall === 1 ? { error: "529 overloaded_error: Overloaded" } : "recovered",
		);
		const definition = workflow({
			name: "retry",
			description: "first call overloaded",
			inputs: {},
			outputs: { text: Type.String() },
			run: async (ctx) => ({ text: (await ctx.task("flaky", { prompt: "Try" })).text }),
		});
		const report = await harness.run(definition, {}, { retry: { baseDelayMs: 1 } });
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ text: "recovered" });
		expect(harness.provider.calls.filter((call) => call.stage === "flaky")).toHaveLength(2);
	});
});
