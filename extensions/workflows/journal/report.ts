// Builds report.json (schema version 1, see DESIGN.md) from journal events, so a missing or stale
// report never loses a run, and writes it (atomically) together with report.md.

import { renameSync, writeFileSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import type { Usage } from "../authoring/types.js";
import { addUsage, zeroUsage } from "../authoring/usage.js";
import type { RunStatus, StageStatus } from "./events.js";
import type { JournalContents } from "./journal.js";
import { renderReportMarkdown } from "./report-markdown.js";
import type { RunPaths } from "./run-directory.js";

export interface StageAttempt {
	model: string;
	ok: boolean;
	error?: string;
}

export interface StageReport {
	id: string;
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
	replayed: boolean;
}

export interface PromptReport {
	id: string;
	kind: string;
	message: string;
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
	const show = (path: string) => {
		const rel = relative(runDir, path);
		return rel.startsWith("..") || isAbsolute(rel) ? path : rel;
	};
	for (const event of events) {
		switch (event.type) {
			case "run_started":
				report.inputs = event.inputs;
				report.startedAt = event.at;
				break;
			case "stage_started": {
				const stage: StageReport = {
					id: event.stageId,
					name: event.name,
					status: "running",
					parents: event.parents,
					model: event.model,
					attempts: [],
					usage: zeroUsage(),
					sessionFile: show(event.sessionFile),
					replayed: false,
				};
				stages.set(event.stageId, stage);
				report.stages.push(stage);
				break;
			}
			case "stage_completed": {
				const stage = stages.get(event.stageId);
				if (!stage) break;
				const result = event.result;
				stage.status = "completed";
				stage.model = result.model;
				stage.usage = result.usage;
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
				stage.usage = event.usage;
				stage.durationMs = event.durationMs;
				stage.error = event.error;
				stage.attempts.push({ model: stage.model ?? "", ok: false, error: event.error });
				if (!event.cancelled)
					report.errors.push(`Workflow "${header.workflow}", stage "${event.stageId}": ${event.error}`);
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
	report.usage = report.stages.reduce((total, stage) => addUsage(total, stage.usage), zeroUsage());
	return report;
}

/** Writes report.json (via a temporary file and rename, so readers never see half a report) and report.md. */
export function writeReport(paths: RunPaths, report: RunReport): void {
	writeAtomically(paths.reportJson, `${JSON.stringify(report, null, "\t")}\n`);
	writeAtomically(paths.reportMd, renderReportMarkdown(report));
}

export function writeAtomically(path: string, content: string): void {
	const temporary = `${path}.${process.pid}.tmp`;
	writeFileSync(temporary, content);
	renameSync(temporary, path);
}
