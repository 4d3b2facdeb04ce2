// Builds report.json (schema version 1, see DESIGN.md) from journal events, so a missing or stale
// report never loses a run, and writes it (atomically) together with report.md.

import { isAbsolute, relative } from "node:path";
import type { Usage } from "../authoring/types.js";
import { zeroUsage } from "../authoring/usage.js";
import { writeAtomically } from "./atomic-write.js";
import type { NodeKind, RunStatus, StageStatus } from "./events.js";
import type { JournalContents } from "./journal.js";
import { renderReportMarkdown } from "./report-markdown.js";
import type { RunPaths } from "./run-directory.js";
import { SpendLedger } from "./spend-ledger.js";

export interface StageAttempt {
	model: string;
	ok: boolean;
	error?: string;
}

export interface StageReport {
	id: string;
	/** A model stage (`ctx.task`) or a recorded side effect (`ctx.tool`). */
	kind: NodeKind;
	name: string;
	status: StageStatus;
	parents: string[];
	model?: string;
	attempts: StageAttempt[];
	usage: Usage;
	durationMs?: number;
	sessionFile?: string;
	output?: string;
	error?: string;
	/** The result came from the journal of an earlier process, without running the stage again. */
	replayed: boolean;
	/** Why a resumed run ran this recorded stage again (its definition changed, output deleted, ...). */
	rerun?: string;
}

export interface PromptReport {
	id: string;
	kind: string;
	message: string;
	/** select: the choices. */
	options?: string[];
	/** The stage whose session asked, for a dialog raised inside a stage. */
	stage?: string;
	/** Absent while the question waits. */
	answer?: unknown;
}

export interface RunReport {
	version: 1;
	runId: string;
	workflow: string;
	status: RunStatus;
	reason?: string;
	inputs: Record<string, unknown>;
	outputs?: Record<string, unknown>;
	startedAt: string;
	endedAt?: string;
	durationMs?: number;
	usage: Usage;
	stages: StageReport[];
	prompts: PromptReport[];
	artifacts: string[];
	errors: string[];
}

/** Folds journal events into a report. Paths inside the run directory become relative to it. */
export function buildReport(journal: JournalContents, runDir: string, artifacts: string[] = []): RunReport {
	const { header, events } = journal;
	const report: RunReport = {
		version: 1,
		runId: header.runId,
		workflow: header.workflow,
		status: "running",
		inputs: {},
		startedAt: header.createdAt,
		usage: zeroUsage(),
		stages: [],
		prompts: [],
		artifacts: [...artifacts],
		errors: [],
	};
	const stages = new Map<string, StageReport>();
	const prompts = new Map<string, PromptReport>();
	const ledger = new SpendLedger();
	const show = (path: string) => {
		const rel = relative(runDir, path);
		return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
	};
	const node = (stageId: string, kind: NodeKind, name: string): StageReport => {
		let stage = stages.get(stageId);
		if (!stage) {
			stage = {
				id: stageId,
				kind,
				name,
				status: "running",
				parents: [],
				attempts: [],
				usage: zeroUsage(),
				replayed: false,
			};
			stages.set(stageId, stage);
			report.stages.push(stage);
		}
		return stage;
	};
	const fail = (stageId: string, error: string) =>
		report.errors.push(`Workflow "${header.workflow}", stage "${stageId}": ${error}`);
	for (const event of events) {
		ledger.apply(event);
		switch (event.type) {
			case "run_started":
				report.inputs = event.inputs;
				report.startedAt = event.at;
				break;
			case "run_resumed":
				report.status = "running";
				report.errors = [];
				for (const key of ["reason", "endedAt", "durationMs", "outputs"] as const) delete report[key];
				break;
			case "run_paused":
				report.status = "paused";
				report.reason = event.reason;
				break;
			case "stage_started":
			case "tool_started": {
				const stage = node(event.stageId, event.type === "stage_started" ? "task" : "tool", event.name);
				stage.status = "running";
				stage.parents = event.parents;
				stage.replayed = false;
				delete stage.error;
				if (event.rerun) stage.rerun = event.rerun;
				if (event.type === "stage_started") {
					stage.model = event.model;
					stage.sessionFile = show(event.sessionFile);
				}
				break;
			}
			case "stage_completed": {
				const stage = stages.get(event.stageId);
				if (!stage) break;
				const result = event.result;
				stage.status = "completed";
				stage.model = result.model;
				stage.durationMs = result.durationMs;
				stage.attempts.push({ model: result.model, ok: true });
				if (result.outputPath) {
					stage.output = show(result.outputPath);
					if (!report.artifacts.includes(stage.output)) report.artifacts.push(stage.output);
				}
				break;
			}
			case "stage_failed": {
				const stage = stages.get(event.stageId);
				if (!stage) break;
				stage.status = event.cancelled ? "cancelled" : "failed";
				stage.durationMs = event.durationMs;
				stage.error = event.error;
				stage.attempts.push({ model: stage.model ?? "", ok: false, error: event.error });
				if (!event.cancelled) fail(event.stageId, event.error);
				break;
			}
			case "stage_interrupted": {
				const stage = stages.get(event.stageId);
				if (!stage) break;
				stage.status = "interrupted";
				stage.durationMs = event.durationMs;
				stage.attempts.push({ model: stage.model ?? "", ok: false, error: `interrupted: ${event.reason}` });
				break;
			}
			case "stage_replayed": {
				const stage = stages.get(event.stageId);
				if (stage) stage.replayed = true;
				break;
			}
			case "prompt_pending": {
				const stage = node(event.stageId, "prompt", event.kind);
				stage.status = "waiting";
				stage.parents = event.parents;
				stage.replayed = false;
				const prompt: PromptReport = { id: event.stageId, kind: event.kind, message: event.message };
				if (event.options) prompt.options = event.options;
				if (event.stage) prompt.stage = event.stage;
				prompts.set(event.stageId, prompt);
				break;
			}
			case "prompt_answered": {
				const stage = stages.get(event.stageId);
				if (stage) stage.status = "completed";
				const prompt = prompts.get(event.stageId);
				if (prompt) prompt.answer = event.answer;
				break;
			}
			case "tool_finished": {
				const stage = stages.get(event.stageId);
				if (!stage) break;
				stage.durationMs = event.durationMs;
				if (event.outcome.ok) {
					stage.status = "completed";
					break;
				}
				stage.status = event.stopped ? "interrupted" : "failed";
				stage.error = event.outcome.error.message;
				if (!event.stopped && !event.failureReturned) fail(event.stageId, event.outcome.error.message);
				break;
			}
			case "run_finished":
				report.status = event.status;
				report.endedAt = event.at;
				report.durationMs = Date.parse(event.at) - Date.parse(report.startedAt);
				if (event.outputs) report.outputs = event.outputs;
				if (event.reason) report.reason = event.reason;
				if (event.error && !report.errors.includes(event.error)) report.errors.push(event.error);
				break;
		}
	}
	for (const stage of report.stages) stage.usage = ledger.stage(stage.id);
	report.usage = ledger.total();
	report.prompts = [...prompts.values()];
	const waiting = report.prompts.some((prompt) => prompt.answer === undefined);
	if (waiting && (report.status === "running" || report.status === "paused")) report.status = "awaiting_input";
	return report;
}

/** The report of a run whose owner is gone while it was running: interrupted, and resumable. */
export function markInterrupted(report: RunReport): RunReport {
	if (report.status !== "running") return report;
	return {
		...report,
		status: "interrupted",
		reason: "the process running it stopped; resume it to continue",
		stages: report.stages.map((stage) => (stage.status === "running" ? { ...stage, status: "interrupted" } : stage)),
	};
}

/** Writes report.json (via a temporary file and rename, so readers never see half a report) and report.md. */
export function writeReport(paths: RunPaths, report: RunReport): void {
	writeAtomically(paths.reportJson, `${JSON.stringify(report, null, "\t")}\n`);
	writeAtomically(paths.reportMd, renderReportMarkdown(report));
}
