// Never kill Pi, never lose work: no stage path can reach a run's records (this run's or another's) or climb
// out of the artifacts folder, refused before any model call; a stage that wrote its own output file keeps
// it; a dangling link in artifacts/ or a report that cannot be written becomes a warning and the run still
// settles; a skipped journal line is a warning in report.json, status and show; a run whose journal cannot
// be read is listed with its error and never hides the others.

import { appendFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TaskOptions } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { formatRunDetails, formatRunList } from "../extensions/workflows/surface/format.js";
import { RunManager } from "../extensions/workflows/surface/run-manager.js";
import { createHarness, type Harness } from "./support/harness.js";

function oneStage(options: Partial<TaskOptions> & { before?: (ctx: { runDir: string; cwd: string }) => void }) {
	const { before, ...task } = options;
	return workflow({
		name: "one-stage",
		description: "one stage with the given options",
		inputs: {},
		outputs: {},
		run: async (ctx) => {
			before?.({ runDir: ctx.runDir, cwd: ctx.cwd });
			await ctx.task("work", { prompt: "Do the work", ...task });
			return {};
		},
	});
}

describe("no stage path reaches a run's records or leaves the artifacts folder", () => {
	let harness: Harness;
	let other: string;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
		other = (await harness.run(oneStage({}), {})).runId;
	});
	afterEach(() => harness.cleanup());

	const cases: Array<{ name: string; options: (h: Harness, other: string) => Partial<TaskOptions>; refused: RegExp }> =
		[
			{
				name: "an output onto the run's own journal",
				options: () => ({ output: "../journal.jsonl" }),
				refused:
					/output: path "\.\.\/journal\.jsonl" resolves to .*journal\.jsonl: refused, a relative output must stay inside the run's artifacts folder/,
			},
			{
				name: "an output onto another run's journal",
				options: (_h, run) => ({ output: `../../${run}/journal.jsonl` }),
				refused: /refused, a relative output must stay inside the run's artifacts folder/,
			},
			{
				name: "an output that climbs onto the project's workflow files",
				options: () => ({ output: "../../../x.ts" }),
				refused: /refused, a relative output must stay inside the run's artifacts folder/,
			},
			{
				name: "an absolute output into another run's records",
				options: (h, run) => ({ output: join(h.store.paths(run).runDir, "report.json") }),
				refused: /refused, it is part of the records of run /,
			},
			{
				name: "an absolute output into another run's artifacts",
				options: (h, run) => ({ output: join(h.store.paths(run).artifactsDir, "x.md") }),
				refused: /refused, it is inside the artifacts of another run/,
			},
			{
				name: "a read of another run's transcript",
				options: (h, run) => ({ reads: [join(h.store.paths(run).stagesDir, "work.jsonl")] }),
				refused: /reads: path .* refused, it is part of the records of run /,
			},
			{
				name: "a relative read that climbs to the run's journal",
				options: () => ({ reads: ["../journal.jsonl"] }),
				refused: /reads: path "\.\.\/journal\.jsonl" resolves to .*: refused, it is outside the project/,
			},
		];

	for (const { name, options, refused } of cases) {
		it(`refuses ${name}, naming the stage, before any model call`, async () => {
			const calls = harness.provider.calls.length;
			const otherJournal = readFileSync(harness.store.paths(other).journal, "utf8");
			const report = await harness.run(oneStage(options(harness, other)), {});
			expect(report.status).toBe("failed");
			expect(report.errors[0]).toMatch(/^Workflow "one-stage", stage "work": /);
			expect(report.errors[0]).toMatch(refused);
			expect(harness.provider.calls.length).toBe(calls);
			expect(readFileSync(harness.store.paths(other).journal, "utf8")).toBe(otherJournal);
		});
	}

	it("refuses an output whose place is a symbolic link out of the artifacts folder, even a dangling one", async () => {
		const report = await harness.run(
			oneStage({
				output: "escape.md",
				before: ({ runDir }) =>
					symlinkSync("/tmp/pi-workflows-nowhere/escape.md", join(runDir, "artifacts", "escape.md")),
			}),
			{},
		);
		expect(report.status).toBe("failed");
		expect(report.errors[0]).toMatch(
			/output: path "escape\.md" resolves to .*: refused, a relative output must stay inside/,
		);
	});

	it("writes into the project when given an explicit path there", async () => {
		const target = join(harness.cwd, "docs", "plan.md");
		const report = await harness.run(oneStage({ output: target }), {});
		expect(report.status).toBe("completed");
		expect(readFileSync(target, "utf8")).toBe("answer of work");
	});
});

describe("a stage that wrote its own output file", () => {
	it("keeps the stage's work; its closing message is the result's text, not the file", async () => {
		const harness = await createHarness((request) => {
			const path = /saved to (\S+);/.exec(request.transcript[0] ?? "")?.[1];
			if (!request.afterToolResult)
				return { toolCalls: [{ name: "write", arguments: { path, content: "THE WORK, 159 minutes of it" } }] };
			return "Done, I wrote it.";
		});
		try {
			const report = await harness.run(oneStage({ output: "result.md" }), {});
			expect(report.status).toBe("completed");
			const output = join(harness.store.paths(report.runId).artifactsDir, "result.md");
			expect(readFileSync(output, "utf8")).toBe("THE WORK, 159 minutes of it");
			const finished = harness.events(report.runId).find((event) => event.type === "node_finished");
			expect(finished).toMatchObject({
				status: "completed",
				result: { text: "Done, I wrote it.", outputPath: output },
			});
		} finally {
			harness.cleanup();
		}
	});
});

describe("problems that do not stop a run are warnings, and the run settles", () => {
	let harness: Harness;
	beforeEach(async () => {
		harness = await createHarness((request) => `answer of ${request.stage}`);
	});
	afterEach(() => harness.cleanup());

	it("a dangling symbolic link in artifacts/ is listed, not followed, and breaks nothing", async () => {
		const report = await harness.run(
			oneStage({
				before: ({ runDir }) => symlinkSync("/tmp/pi-workflows-nowhere", join(runDir, "artifacts", "dangling")),
			}),
			{},
		);
		expect(report.status).toBe("completed");
		expect(report.artifacts).toContain("artifacts/dangling");
		expect(report.warnings).toEqual([]);
	});

	it("a report.json that cannot be written is a warning; the run still completes and says so", async () => {
		const report = await harness.run(
			oneStage({
				before: ({ runDir }) => {
					rmSync(join(runDir, "report.json"), { force: true });
					mkdirSync(join(runDir, "report.json", "in-the-way"), { recursive: true });
				},
			}),
			{},
		);
		expect(report.status).toBe("completed");
		expect(report.warnings.some((warning) => warning.startsWith("report.json could not be written:"))).toBe(true);
		// The journal has the warning too, so the report rebuilt later shows it.
		expect(harness.events(report.runId).some((event) => event.type === "warning")).toBe(true);
	});

	it("a skipped journal line is a warning in report.json, status and show", async () => {
		const first = await harness.run(oneStage({}), {});
		appendFileSync(harness.store.paths(first.runId).journal, "{ torn\n");
		const view = harness.view(first.runId);
		expect(view.report.warnings).toEqual([
			expect.stringMatching(/skipped unreadable last line \(torn write\?\): "\{ torn"/),
		]);
		const manager = new RunManager();
		expect(formatRunList(manager.listings(harness.cwd))).toMatch(new RegExp(`^${first.runId} .* 1 warning$`));
		expect(formatRunDetails(view.report, harness.cwd)).toMatch(/\nwarnings:\n {2}.*skipped unreadable last line/);
	});

	it("a run whose journal cannot be read is listed with its error, and the others still are", async () => {
		const good = await harness.run(oneStage({}), {});
		const broken = await harness.run(oneStage({}), {});
		writeFileSync(harness.store.paths(broken.runId).journal, "garbage\n");
		const listed = formatRunList(new RunManager().listings(harness.cwd)).split("\n");
		expect(listed).toHaveLength(2);
		expect(listed.find((line) => line.startsWith(good.runId))).toMatch(/ one-stage {2}completed /);
		expect(listed.find((line) => line.startsWith(broken.runId))).toMatch(/ERROR .*is not a workflow journal/);
	});
});
