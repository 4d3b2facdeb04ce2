// Renders report.md: the human-readable receipt of a run (status, cost, stages, graph, outputs, errors).

import { renderGraph } from "./graph-text.js";
import type { RunReport } from "./report.js";

export function renderReportMarkdown(report: RunReport): string {
	const lines: string[] = [`# Workflow run ${report.runId}: ${report.workflow}`, ""];
	lines.push(`- Status: **${report.status}**${report.reason ? ` (${report.reason})` : ""}`);
	lines.push(`- Started: ${report.startedAt}${report.endedAt ? `, ended: ${report.endedAt}` : ""}`);
	if (report.durationMs !== undefined) lines.push(`- Duration: ${formatDuration(report.durationMs)}`);
	lines.push(
		`- Usage: ${report.usage.totalTokens} tokens (${report.usage.input} in, ${report.usage.output} out), ` +
			`${report.usage.turns} turns, ${report.usage.toolCalls} tool calls, ${formatCost(report.usage.cost)}`,
	);
	lines.push(
		"",
		"## Stages",
		"",
		"| stage | status | model | duration | tokens | cost |",
		"|---|---|---|---|---|---|",
	);
	for (const stage of report.stages) {
		const duration = stage.durationMs === undefined ? "" : formatDuration(stage.durationMs);
		lines.push(
			`| ${stage.id} | ${stage.status} | ${stage.model ?? ""} | ${duration} | ${stage.usage.totalTokens} | ${formatCost(stage.usage.cost)} |`,
		);
	}
	if (report.stages.length > 0) {
		lines.push("", "## Graph", "", "```", ...renderGraph(report.stages), "```");
	}
	if (report.outputs) {
		lines.push("", "## Outputs", "", "```json", JSON.stringify(report.outputs, null, 2), "```");
	}
	if (report.artifacts.length > 0) {
		lines.push("", "## Artifacts", "", ...report.artifacts.map((path) => `- ${path}`));
	}
	if (report.errors.length > 0) {
		lines.push("", "## Errors", "", ...report.errors.map((error) => `- ${error}`));
	}
	return `${lines.join("\n")}\n`;
}

export function formatDuration(ms: number): string {
	if (ms < 1000) return `${ms}ms`;
	const seconds = ms / 1000;
	if (seconds < 60) return `${seconds.toFixed(1)}s`;
	const minutes = Math.floor(seconds / 60);
	return `${minutes}m${Math.round(seconds % 60)
		.toString()
		.padStart(2, "0")}s`;
}

export function formatCost(usd: number): string {
	return usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}
