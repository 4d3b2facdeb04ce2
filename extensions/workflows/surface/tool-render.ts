// Compact TUI rendering of the workflow tool: the call as one line (action and target), the result as
// its first line, and when expanded, one line per stage. Without details it falls back to plain text.

import type { AgentToolResult } from "@mariozechner/pi-agent-core";
import type { Theme, ToolRenderResultOptions } from "@mariozechner/pi-coding-agent";
import { Text } from "@mariozechner/pi-tui";
import type { WorkflowToolDetails } from "./workflow-tool.js";

export interface WorkflowToolArgs {
	action: string;
	workflow?: string;
	spec?: unknown;
	run?: string;
}

export function renderWorkflowCall(args: WorkflowToolArgs, theme: Theme): Text {
	const specName =
		typeof args.spec === "object" && args.spec !== null ? (args.spec as { name?: unknown }).name : undefined;
	const target = args.workflow ?? (specName ? `spec ${String(specName)}` : args.run);
	return new Text(
		`${theme.fg("toolTitle", theme.bold("workflow "))}${theme.fg("muted", args.action)}${target ? ` ${theme.fg("accent", target)}` : ""}`,
		0,
		0,
	);
}

export function renderWorkflowResult(
	result: AgentToolResult<WorkflowToolDetails | undefined>,
	options: ToolRenderResultOptions,
	theme: Theme,
): Text {
	const first = result.content.find((block) => block.type === "text");
	const text = first && first.type === "text" ? first.text : "";
	const details = result.details;
	if (!details) return new Text(text, 0, 0);
	const headline = text.split("\n")[0] ?? "";
	const colour =
		details.status === "failed" || details.status === "cancelled"
			? "error"
			: details.status === "completed"
				? "success"
				: "muted";
	const lines = [theme.fg(colour, headline)];
	if (options.expanded) {
		for (const stage of details.stages ?? []) {
			lines.push(
				`  ${theme.fg(stage.status === "completed" ? "success" : stage.status === "running" ? "accent" : "error", stage.status)} ${stage.id}${stage.model ? theme.fg("dim", ` ${stage.model}`) : ""}`,
			);
		}
		if (!details.stages)
			lines.push(
				...text
					.split("\n")
					.slice(1)
					.map((line) => theme.fg("dim", line)),
			);
	}
	return new Text(lines.join("\n"), 0, 0);
}
