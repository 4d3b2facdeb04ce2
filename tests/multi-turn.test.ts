// ctx.stage: a multi-turn stage holds one conversation over several prompts. It is one node of the graph (one
// stage of the budget) with each prompt a recorded call inside it; a resume replays the finished prompts from
// the journal, continues an interrupted one from the transcript, and sends only what is left.

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Type } from "typebox";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import type { ScriptedReply, ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { deferred } from "./support/fixtures.js";
import { createHarness, type Harness } from "./support/harness.js";
import { type JournalLine, label } from "./support/journal-lines.js";

const conversation = workflow({
	name: "conversation",
	description: "implements in three prompts, then reviews",
	inputs: {},
	outputs: { last: Type.String() },
	run: async (ctx) => {
		const impl = ctx.stage("impl", { tools: [] });
		await impl.prompt("Write the parser");
		await impl.prompt("Now add tests");
		const third = await impl.prompt("Summarise what you did");
		await impl.close();
		const review = await ctx.task("review", { prompt: "Review", previous: third });
		return { last: review.text };
	},
});

describe("ctx.stage", () => {
	let harness: Harness;
	let hold: ((request: ScriptedRequest) => Promise<void> | undefined) | undefined;
	let reply: ((request: ScriptedRequest) => ScriptedReply | undefined) | undefined;
	beforeEach(async () => {
		hold = undefined;
		reply = undefined;
		harness = await createHarness(async (request) => {
			await hold?.(request);
			return reply?.(request) ?? `answer ${request.stageCall} of ${request.stage}`;
		});
	});
	afterEach(() => harness.cleanup());

	it("keeps one conversation over its prompts, as one stage with a node per prompt", async () => {
		const report = await harness.run(conversation, {}, { budget: { maxStages: 2 } });
		expect(report.status).toBe("completed");
		const calls = harness.provider.calls;
		expect(calls.map((call) => call.stage)).toEqual(["impl/1", "impl/2", "impl/3", "review"]);
		// The third prompt sees the whole conversation: both earlier prompts and answers.
		const third = calls[2]?.transcript.join("\n") ?? "";
		expect(third).toContain("Write the parser");
		expect(third).toContain("answer 1 of impl/1");
		expect(third).toContain("Now add tests");
		expect(third).toContain("Summarise what you did");
		const byId = Object.fromEntries(report.stages.map((stage) => [stage.id, stage]));
		expect(byId.impl).toMatchObject({ kind: "stage", status: "completed" });
		for (const id of ["impl/1", "impl/2", "impl/3"]) {
			expect(byId[id]).toMatchObject({ kind: "task", status: "completed", within: "impl" });
			expect(byId[id]?.sessionFile).toBe(byId.impl?.sessionFile);
		}
		expect(byId["impl/2"]?.parents).toEqual(["impl/1"]);
		expect(byId.review?.parents).toEqual(["impl"]);
		// One stage of the budget for the session, one for review.
		expect(report.budget?.spent.stages).toBe(2);
		// Usage is each prompt's own, summed once.
		const promptTokens = ["impl/1", "impl/2", "impl/3"].reduce(
			(sum, id) => sum + (byId[id]?.usage.totalTokens ?? 0),
			0,
		);
		expect(report.usage.totalTokens).toBe(promptTokens + (byId.review?.usage.totalTokens ?? 0));
	});

	it("killed between prompts, a resume replays the finished ones and sends only the rest", async () => {
		const first = await harness.run(conversation, {});
		expect(first.status).toBe("completed");
		// A crash right after the second prompt finished: the journal ends there.
		const path = runPaths(harness.cwd, first.runId).journal;
		const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
		const kept = [header as string];
		for (const line of lines) {
			kept.push(line);
			if (label(JSON.parse(line) as JournalLine) === "completed impl/2") break;
		}
		writeFileSync(path, `${kept.join("\n")}\n`);
		rmSync(runPaths(harness.cwd, first.runId).reportJson, { force: true });
		// The transcript is as the crash left it (the third prompt never reached it).
		harness.provider.calls.length = 0;
		const resumed = await harness.resume(conversation, first.runId).done;
		expect(resumed.status).toBe("completed");
		expect(harness.provider.calls.map((call) => call.stage)).toEqual(["impl/3", "review"]);
		const replayed = resumed.stages.filter((stage) => stage.replayed).map((stage) => stage.id);
		expect(replayed).toEqual(expect.arrayContaining(["impl/1", "impl/2"]));
		// The conversation goes on in the same transcript: the third prompt sees the first two.
		const third = harness.provider.calls.find((call) => call.stage === "impl/3");
		expect(third?.transcript.join("\n")).toContain("answer 1 of impl/2");
	});

	it("paused during a prompt, a resume continues that prompt from the transcript", async () => {
		const reached = deferred();
		const release = deferred();
		// The second prompt reads a file first (work in the transcript), then is paused while it answers.
		hold = (request) => {
			if (request.stage !== "impl/2" || request.stageCall !== 2) return undefined;
			reached.resolve();
			return release.promise;
		};
		writeFileSync(join(harness.cwd, "notes.md"), "notes\n");
		const reads = workflow({
			...conversation,
			run: async (ctx) => {
				const impl = ctx.stage("impl", { tools: ["read"] });
				await impl.prompt("Write the parser");
				await impl.prompt("Now add tests");
				const third = await impl.prompt("Summarise what you did");
				await impl.close();
				return { last: third.text };
			},
		});
		reply = (request) =>
			request.stage === "impl/2" && request.stageCall === 1
				? { toolCalls: [{ name: "read", arguments: { path: "notes.md" } }] }
				: undefined;
		const run = harness.start(reads, {});
		await reached.promise;
		run.pause("a break");
		release.resolve();
		const paused = await run.done;
		expect(paused.status).toBe("paused");
		hold = undefined;
		harness.provider.calls.length = 0;
		const resumed = await harness.resume(reads, run.runId).done;
		expect(resumed.status).toBe("completed");
		const stages = harness.provider.calls.map((call) => call.stage);
		expect(stages[0]).toBe("impl/2");
		expect(harness.provider.calls[0]?.lastMessage).toContain("has now been resumed");
		expect(stages).not.toContain("impl/1");
		const events = harness.events(run.runId).filter((e) => e.type === "node_started" && e.stageId === "impl/2");
		expect(events.at(-1)).toMatchObject({ continued: true });
	});

	it("refuses fallback models and a fork, naming the stage, before any model call", async () => {
		const bad = workflow({
			name: "bad",
			description: "a stage with fallbacks",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				const s = ctx.stage("impl", { fallbackModels: ["scripted/smart"] } as never);
				await s.prompt("go");
				return {};
			},
		});
		const report = await harness.run(bad, {});
		expect(report.status).toBe("failed");
		expect(report.errors.join("\n")).toContain(
			'stage "impl": fallbackModels: a multi-turn stage keeps one conversation',
		);
		expect(harness.provider.calls).toEqual([]);
	});

	it("closes a session the workflow left open when the run ends", async () => {
		const open = workflow({
			name: "open",
			description: "never closes",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.stage("impl").prompt("go");
				return {};
			},
		});
		const report = await harness.run(open, {});
		expect(report.status).toBe("completed");
		expect(report.stages.find((stage) => stage.id === "impl")?.status).toBe("completed");
	});
});
