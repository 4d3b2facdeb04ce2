// Plain-text views shared by the command, the tool and the widget: workflow lists, run lines,
// run details with the stage graph, and the one-line summary printed in headless modes.

import { answerHint } from "../engine/prompt-answer.js";
import type { PromptKind } from "../store/events.js";
import { renderGraph } from "../store/graph-text.js";
import type { RunReport } from "../store/report.js";
import { formatCost, formatDuration } from "../store/report-markdown.js";
import { runPaths } from "../store/run-directory.js";
import type { CatalogEntry } from "./catalog.js";

export function formatWorkflowList(entries: readonly CatalogEntry[]): string {
	if (entries.length === 0) return "No workflows found.";
	const lines = entries.map((entry) => {
		if (entry.error) return `  ${entry.name}  [${entry.scope}] ERROR ${entry.error} (${entry.file})`;
		const description = entry.description ?? (entry.scope === "project" ? "(project file, loads when used)" : "");
		return `  ${entry.name}  [${entry.scope}] ${description}`;
	});
	return `Workflows:\n${lines.join("\n")}`;
}

export function formatRunLine(report: RunReport): string {
	const duration = report.durationMs === undefined ? "" : ` ${formatDuration(report.durationMs)}`;
	return `${report.runId}  ${report.workflow}  ${report.status}  ${report.stages.length} stages  ${formatCost(report.usage.cost)}${duration}  started ${report.startedAt}`;
}

export function formatRunDetails(report: RunReport, cwd: string): string {
	const lines = [formatRunLine(report)];
	if (report.reason) lines.push(`reason: ${report.reason}`);
	lines.push("", "stages:");
	for (const stage of report.stages) {
		const duration = stage.durationMs === undefined ? "-" : formatDuration(stage.durationMs);
		lines.push(
			`  ${stage.id}  ${stage.status}${stage.replayed ? " (replayed)" : ""}  ${stage.model ?? (stage.kind === "tool" ? "tool" : "-")}  ${duration}  ${stage.usage.totalTokens} tokens  ${formatCost(stage.usage.cost)}${stage.error ? `  error: ${stage.error}` : ""}${stage.rerun ? `  rerun: ${stage.rerun}` : ""}`,
		);
	}
	if (report.stages.length > 0) lines.push("", "graph:", ...renderGraph(report.stages).map((line) => `  ${line}`));
	if (report.outputs) lines.push("", `outputs: ${JSON.stringify(report.outputs)}`);
	if (report.errors.length > 0) lines.push("", "errors:", ...report.errors.map((error) => `  ${error}`));
	const waiting = report.prompts.filter((prompt) => prompt.answer === undefined);
	if (waiting.length > 0) {
		lines.push(
			"",
			"waiting for answers:",
			...waiting.map((prompt) => `  ${prompt.id} (${prompt.kind}): ${prompt.message}`),
		);
	}
	lines.push("", `report: ${runPaths(cwd, report.runId).reportJson}`);
	return lines.join("\n");
}

/** The one line headless modes print when a run stops: run id, status, report path. */
export function summaryLine(report: RunReport, cwd: string): string {
	return `workflow run ${report.runId} ${report.status} ${runPaths(cwd, report.runId).reportJson}`;
}

/** For a run stopped at questions: each question and the command that answers it (headless output). */
export function waitingLines(report: RunReport): string[] {
	if (report.status !== "awaiting_input") return [];
	return report.prompts
		.filter((prompt) => prompt.answer === undefined)
		.flatMap((prompt) => [
			`prompt ${prompt.id} (${prompt.kind}): ${prompt.message}`,
			`answer: pi -p "/workflow answer ${report.runId} ${prompt.id} <${answerHint({ kind: prompt.kind as PromptKind, message: prompt.message, options: prompt.options })}>"`,
		]);
}

/** What the chat (and the model) is told when a run ends. */
export function completionText(report: RunReport, cwd: string): string {
	const lines = [`Workflow "${report.workflow}" run ${report.runId} ${report.status}.`];
	if (report.outputs) lines.push(`Outputs: ${JSON.stringify(report.outputs, null, 2)}`);
	if (report.reason) lines.push(`Reason: ${report.reason}`);
	if (report.errors.length > 0) lines.push(`Errors:\n${report.errors.map((error) => `- ${error}`).join("\n")}`);
	lines.push(`Report: ${runPaths(cwd, report.runId).reportJson}`);
	return lines.join("\n");
}

/** Told at session start: runs no process drives that a resume would continue. */
export function resumableNotice(reports: readonly RunReport[]): string {
	const lines = reports.map((report) => {
		const done = report.stages.filter((stage) => stage.status === "completed").length;
		return `  ${report.runId}  ${report.workflow}  ${report.status}  ${done}/${report.stages.length} stages done`;
	});
	return [
		`Workflow runs that can be resumed (finished stages are not run again):`,
		...lines,
		"Resume one with /workflow resume <run> [message], or drop it with /workflow cancel <run>.",
	].join("\n");
}
