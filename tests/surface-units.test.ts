// Small surface pieces: run-id prefixes, argument parsing, completion, catalog sources, durations, the trust
// file, and how much a view of one run may say.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Theme } from "@mariozechner/pi-coding-agent";
import { Type } from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import { zeroUsage } from "../extensions/workflows/authoring/usage.js";
import { matchRunId } from "../extensions/workflows/engine/runs.js";
import type { RunReport, StageReport } from "../extensions/workflows/store/report.js";
import { formatDuration } from "../extensions/workflows/store/report-markdown.js";
import { WorkflowCatalog } from "../extensions/workflows/surface/catalog.js";
import { parseInputs, splitWords } from "../extensions/workflows/surface/command-args.js";
import { completionText, formatRunDetails, formatRunLine } from "../extensions/workflows/surface/format.js";
import { renderWorkflowCall, renderWorkflowResult } from "../extensions/workflows/surface/tool-render.js";
import { createTrustStore } from "../extensions/workflows/surface/trust.js";
import { completions } from "../extensions/workflows/surface/workflow-command.js";

describe("matchRunId", () => {
	const known = ["abc12345", "abd99999", "zzz00000"];
	it.each([
		["abc12345", { ok: true, runId: "abc12345" }],
		["abc", { ok: true, runId: "abc12345" }],
		["ab", { ok: false, error: 'run id prefix "ab" is ambiguous: it matches abc12345, abd99999' }],
		["q", { ok: false, error: 'no run with id "q" (runs: abc12345, abd99999, zzz00000)' }],
		["", { ok: false, error: "expected a run id (or a unique prefix of one), got nothing" }],
	])("%s", (prefix, expected) => {
		expect(matchRunId(prefix, known)).toEqual(expected);
	});
});

describe("command arguments", () => {
	it("splits quoted words", () => {
		expect(splitWords(`run review-change target="PR 12" note='a b'`)).toEqual([
			"run",
			"review-change",
			"target=PR 12",
			"note=a b",
		]);
	});

	it("parses values as JSON when they parse, else as strings", () => {
		expect(parseInputs(`target="PR 12" count=3 deep=true tags=["a","b"] plain=hello`)).toEqual({
			ok: true,
			inputs: { target: "PR 12", count: 3, deep: true, tags: ["a", "b"], plain: "hello" },
		});
		expect(parseInputs(`{"target": "x", "count": 2}`)).toEqual({ ok: true, inputs: { target: "x", count: 2 } });
		expect(parseInputs("oops")).toEqual({ ok: false, error: 'inputs: expected key=value, got "oops"' });
	});

	it("gives an input that takes a string the text typed, and refuses empty, repeated and unholdable values", () => {
		const declared = {
			target: Type.String(),
			label: Type.Optional(Type.Union([Type.String(), Type.Integer()])),
			count: Type.Integer(),
		};
		expect(parseInputs("target=12 count=3", declared)).toEqual({ ok: true, inputs: { target: "12", count: 3 } });
		expect(parseInputs(`target='"12"' label=true`, declared)).toEqual({
			ok: true,
			inputs: { target: "12", label: "true" },
		});
		expect(parseInputs("target=[1] count=[1]", declared)).toEqual({
			ok: true,
			inputs: { target: "[1]", count: [1] },
		});
		expect(parseInputs("target= count=1", declared)).toEqual({
			ok: false,
			error: 'input "target": nothing after "="; give target=<value> (an empty string only as JSON: {"target": ""})',
		});
		expect(parseInputs("target=a target=b", declared)).toEqual({
			ok: false,
			error: 'input "target" is given twice; give it once',
		});
		expect(parseInputs("count=1e999", declared)).toEqual({
			ok: false,
			error: 'input "count": 1e999 is beyond the numbers a run can hold',
		});
	});

	it("completes subcommands and workflow names", () => {
		const service = { cachedNames: () => ["review-change", "release"] };
		expect(completions("st", service, "/nowhere")?.map((item) => item.value)).toEqual(["status", "steer"]);
		expect(completions("res", service, "/nowhere")?.map((item) => item.value)).toEqual(["resume"]);
		expect(completions("run re", service, "/nowhere")?.map((item) => item.value)).toEqual([
			"run review-change",
			"run release",
		]);
		expect(completions("run x", service, "/nowhere")).toBeNull();
	});

	it("offers no popup for what is typed in full, so Enter runs it; run ids come labelled, newest first", () => {
		const service = { cachedNames: () => ["review-change"] };
		const runs = () => [
			{ runId: "zz11", description: "task  paused  2m ago" },
			{ runId: "aa22", description: "review-change  completed  3d ago" },
		];
		expect(completions("status", service, "/nowhere", runs)).toBeNull();
		expect(completions("run review-change", service, "/nowhere", runs)).toBeNull();
		// `status ` lists every run: no id is filled in by Enter.
		expect(completions("status ", service, "/nowhere", runs)).toBeNull();
		expect(completions("show ", service, "/nowhere", runs)).toEqual([
			{ value: "show zz11", label: "zz11", description: "task  paused  2m ago" },
			{ value: "show aa22", label: "aa22", description: "review-change  completed  3d ago" },
		]);
		expect(completions("status a", service, "/nowhere", runs)?.map((item) => item.value)).toEqual(["status aa22"]);
		expect(completions("show aa22", service, "/nowhere", runs)).toBeNull();
	});
});

describe("WorkflowCatalog", () => {
	let root: string;
	afterEach(() => rmSync(root, { recursive: true, force: true }));

	it("adds extra paths from settings, lets a user workflow shadow a builtin, lists duplicates with an error, and leaves project files unloaded", async () => {
		root = mkdtempSync(join(tmpdir(), "pi-workflows-catalog-"));
		const cwd = join(root, "project");
		const agentDir = join(root, "agent");
		const extra = join(root, "shared-workflows");
		for (const dir of [join(cwd, ".pi/workflows"), agentDir, extra]) mkdirSync(dir, { recursive: true });
		const source = (name: string) =>
			`import { workflow } from "pi-workflows";\nexport default workflow({ name: "${name}", description: "d", inputs: {}, outputs: {}, run: async () => ({}) });\n`;
		writeFileSync(join(extra, "shared.ts"), source("shared"));
		writeFileSync(join(extra, "copy.ts"), source("review-change"));
		writeFileSync(join(agentDir, "settings.json"), JSON.stringify({ workflows: { paths: [extra] } }));
		writeFileSync(join(cwd, ".pi/workflows/local.ts"), "throw new Error('must not be imported at discovery')");
		const catalog = new WorkflowCatalog({ cwd, agentDir });
		await catalog.reload();
		const byName = Object.fromEntries(catalog.list().map((entry) => [entry.file.split("/").pop(), entry]));
		expect(byName["shared.ts"]?.definition?.name).toBe("shared");
		// A user's workflow of a builtin's name shadows the builtin, which says by what.
		expect(byName["copy.ts"]?.error).toBeUndefined();
		expect(catalog.find("review-change")?.file).toBe(join(extra, "copy.ts"));
		expect(byName["review-change.ts"]?.error).toBe(
			`shadowed by the user workflow "review-change" in ${join(extra, "copy.ts")}`,
		);
		// Two of the same source are a duplicate.
		writeFileSync(join(extra, "again.ts"), source("shared"));
		await catalog.reload();
		// Files are read in name order: shared.ts comes after again.ts, and is the duplicate.
		const later = catalog.list().find((entry) => entry.file.endsWith("/shared.ts"));
		expect(later?.error).toMatch(/^duplicate workflow name "shared" \(already defined in .*again\.ts\)$/);
		expect(byName["local.ts"]).toMatchObject({ name: "local", scope: "project" });
		expect(byName["local.ts"]?.error).toBeUndefined();
		expect(byName["local.ts"]?.definition).toBeUndefined();
	});

	it("lists project files by the name they declare, without running them: duplicates and syntax errors show", async () => {
		root = mkdtempSync(join(tmpdir(), "pi-workflows-catalog-"));
		const cwd = join(root, "project");
		const agentDir = join(root, "agent");
		const dir = join(cwd, ".pi/workflows");
		mkdirSync(dir, { recursive: true });
		mkdirSync(agentDir, { recursive: true });
		// Each file throws when run: reading its name and checking its syntax must not run it.
		const declaring = (name: string) =>
			`throw new Error("ran");\nexport default workflow({\n  inputs: { name: Type.String() },\n  name: "${name}",\n});\n`;
		writeFileSync(join(dir, "my-flow.ts"), declaring("review-pr"));
		writeFileSync(join(dir, "other.ts"), declaring("review-pr"));
		writeFileSync(join(dir, "broken.ts"), "export default workflow({ name: ");
		const catalog = new WorkflowCatalog({ cwd, agentDir });
		await catalog.reload();
		expect(catalog.find("review-pr")?.file).toBe(join(dir, "my-flow.ts"));
		const byFile = Object.fromEntries(catalog.list().map((entry) => [entry.file.split("/").pop(), entry]));
		expect(byFile["other.ts"]?.error).toBe(
			`duplicate workflow name "review-pr" (already defined in ${join(dir, "my-flow.ts")})`,
		);
		expect(byFile["broken.ts"]?.error).toMatch(/^could not load: .* \(line 1, column \d+\)$/);
		expect(byFile["broken.ts"]?.name).toBe("broken");
	});
});

describe("workflow tool rendering", () => {
	const theme = { fg: (_colour: string, text: string) => text, bold: (text: string) => text } as unknown as Theme;
	const result = {
		content: [{ type: "text" as const, text: 'Workflow "review-change" run abc completed.\nOutputs: {}' }],
		details: {
			action: "run",
			runId: "abc",
			status: "completed",
			stages: [
				{ id: "scout", status: "completed", model: "scripted/fast" },
				{ id: "synthesis", status: "failed" },
			],
		},
	};

	it("shows one line collapsed and the stages expanded", () => {
		const collapsed = renderWorkflowResult(result, { expanded: false, isPartial: false }, theme).render(120);
		expect(collapsed.map((line) => line.trim()).filter(Boolean)).toEqual([
			'Workflow "review-change" run abc completed.',
		]);
		const expanded = renderWorkflowResult(result, { expanded: true, isPartial: false }, theme).render(120);
		expect(expanded.map((line) => line.trim()).filter(Boolean)).toEqual([
			'Workflow "review-change" run abc completed.',
			"completed scout scripted/fast",
			"failed synthesis",
		]);
	});

	it("falls back to the plain text without details", () => {
		const plain = renderWorkflowResult(
			{ ...result, details: undefined },
			{ expanded: false, isPartial: false },
			theme,
		);
		expect(plain.render(120).map((line) => line.trim())).toContain("Outputs: {}");
		expect(renderWorkflowCall({ action: "run", workflow: "review-change" }, theme).render(120)[0]?.trim()).toBe(
			"workflow run review-change",
		);
	});
});

describe("formatDuration", () => {
	it.each([
		[850, "850ms"],
		[12_340, "12.3s"],
		[59_960, "1m00s"],
		[119_600, "2m00s"],
		[119_400, "1m59s"],
		[3_599_600, "1h00m"],
		[7_500_000, "2h05m"],
	])("%i ms reads %s", (ms, shown) => {
		expect(formatDuration(ms)).toBe(shown);
	});
});

describe("the trust file", () => {
	it("that is not JSON trusts nothing and is never written over", () => {
		const dir = mkdtempSync(join(tmpdir(), "pi-workflows-trust-"));
		try {
			const trustFile = join(dir, "pi-workflows", "trusted.json");
			mkdirSync(join(dir, "pi-workflows"));
			writeFileSync(trustFile, '{ "abc": { "file": "x.ts"'); // cut off mid-write
			const workflowFile = join(dir, "flow.ts");
			writeFileSync(workflowFile, "export default 1;");
			const store = createTrustStore(dir);
			expect(store.isTrusted(workflowFile)).toBe(false);
			expect(() => store.remember(workflowFile)).toThrow(`The trust file ${trustFile} cannot be read (`);
			expect(readFileSync(trustFile, "utf8")).toBe('{ "abc": { "file": "x.ts"');
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe("views of one run are bounded", () => {
	const stage = (index: number): StageReport => ({
		id: `s${index}`,
		kind: "task",
		name: `s${index}`,
		status: "failed",
		parents: [],
		attempts: [],
		usage: zeroUsage(),
		replayed: false,
		error: "e".repeat(900),
	});
	const report: RunReport = {
		version: 1,
		runId: "big00001",
		workflow: "big",
		status: "failed",
		inputs: {},
		outputs: { text: "x".repeat(10_000) },
		startedAt: "2026-12-01T00:00:00.000Z",
		usage: zeroUsage(),
		stages: Array.from({ length: 70 }, (_, index) => stage(index + 1)),
		prompts: [],
		artifacts: [],
		errors: Array.from({ length: 30 }, (_, index) => `error ${index + 1} ${"!".repeat(900)}`),
		warnings: [],
	};

	it("status and show cut long texts, long stage lists and many errors, and say where the whole report is", () => {
		const text = formatRunDetails(report, "/project");
		const whole = "/project/.pi/workflows/runs/big00001/report.json";
		expect(text.length).toBeLessThan(40_000);
		expect(text).toContain(`  ... 20 more stages: see ${whole}`);
		expect(text).toContain(`... [8011 more characters in ${whole}]`);
		expect(text).toContain(`  ... 20 more: see ${whole}`);
		expect(text).not.toContain("s51 ");
	});

	it("the completion message too", () => {
		const text = completionText(report, "/project");
		expect(text.length).toBeLessThan(10_000);
		// The link is to the page a person reads.
		expect(text).toContain("Report: /project/.pi/workflows/runs/big00001/report.md");
		expect(text).toContain("more characters in /project/.pi/workflows/runs/big00001/report.json");
		expect(text).toContain("- ... 20 more: see the report");
	});
});

describe("a stopped run's views", () => {
	const reason = 'budget: 3 stages reached the limit of 3 stages (maxStages) before stage "d" started';
	const blocked: RunReport = {
		version: 1,
		runId: "stop0001",
		workflow: "w",
		status: "blocked",
		reason,
		inputs: {},
		startedAt: "2026-12-01T00:00:00.000Z",
		usage: zeroUsage(),
		stages: [],
		prompts: [],
		artifacts: [],
		errors: [`Workflow "w": ${reason}`, 'Workflow "w", stage "c": 400 bad request'],
		warnings: [],
		budget: {
			limits: { maxStages: 3, maxCostUsd: 2, maxTokens: 500_000 },
			spent: { stages: 3, turns: 4, toolCalls: 0, tokens: 12_345, costUsd: 0.0123, durationMs: 900 },
		},
	};

	it("the completion message says the stop's reason once, and the other errors", () => {
		const text = completionText(blocked, "/project");
		expect(text.split(reason)).toHaveLength(2);
		expect(text).toContain('- Workflow "w", stage "c": 400 bad request');
	});

	it("status and show give spend against each limit the run has", () => {
		expect(formatRunDetails(blocked, "/project")).toContain(
			"budget: stages 3/3  tokens 12.3k/500.0k  cost $0.01/$2.00",
		);
	});
});

describe("views of isolation and queued messages", () => {
	const report: RunReport = {
		version: 1,
		runId: "iso00001",
		workflow: "iso",
		status: "failed",
		inputs: {},
		startedAt: "2026-12-01T00:00:00.000Z",
		usage: zeroUsage(),
		stages: [
			{
				id: "impl",
				kind: "task",
				name: "impl",
				status: "completed",
				parents: [],
				attempts: [],
				usage: zeroUsage(),
				replayed: false,
				change: { patch: "artifacts/impl.patch", files: 2, insertions: 5, deletions: 1 },
			},
		],
		prompts: [],
		artifacts: [],
		errors: [],
		warnings: [],
		worktrees: [
			{ node: "impl", root: "/p/.pi/workflows/runs/iso00001/worktrees/impl", branch: "pi-workflows/x/impl" },
		],
		queued: [{ stage: "check", messages: ["look at the edges"] }],
		undeliverable: [
			{ stage: "docs", messages: ["say why"], reason: 'stage "docs" never started: the run ended cancelled' },
		],
	};

	it("status says where kept worktrees are; show adds the change, queued and undeliverable messages", () => {
		expect(formatRunLine(report)).toContain(
			"\n  worktree of impl: /p/.pi/workflows/runs/iso00001/worktrees/impl (branch pi-workflows/x/impl)",
		);
		const text = formatRunDetails(report, "/p");
		expect(text).toContain("change: 2 files +5 -1 (artifacts/impl.patch)");
		expect(text).toContain("worktrees (kept):\n  impl: /p/.pi/workflows/runs/iso00001/worktrees/impl");
		expect(text).toContain("messages queued for stages not started:\n  check: look at the edges");
		expect(text).toContain('undeliverable messages:\n  stage "docs" never started: the run ended cancelled: say why');
	});

	it("says 1 stage, not 1 stages", () => {
		expect(formatRunLine({ ...report, stages: report.stages.slice(0, 1) })).toMatch(/ {2}1 stage {2}/);
	});

	it("show lines up the stage columns", () => {
		const row = (id: string, model: string, durationMs: number, totalTokens: number): StageReport => ({
			id,
			kind: "task",
			name: id,
			status: "completed",
			parents: [],
			model,
			attempts: [],
			usage: { ...zeroUsage(), totalTokens },
			durationMs,
			replayed: false,
		});
		const text = formatRunDetails(
			{ ...report, stages: [row("a", "scripted/fast", 12, 5), row("maintainability", "p/m:high", 1500, 1225)] },
			"/p",
		);
		const lines = text.split("\n").filter((line) => /^ {2}(a|maintainability) /.test(line));
		expect(lines).toEqual([
			"  a                completed  scripted/fast  12ms     5 tokens  $0.0000",
			"  maintainability  completed  p/m:high       1.5s  1225 tokens  $0.0000",
		]);
	});
});
