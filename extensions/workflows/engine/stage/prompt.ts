// Builds the text a stage session is prompted with: a header naming the workflow and stage, the task,
// the small handoffs (`previous`), the files to read, and where the final answer will be saved.

import type { Previous, StageResult } from "../../authoring/types.js";

export interface StagePromptParts {
	workflow: string;
	stage: string;
	prompt: string;
	previous?: Previous;
	/** Absolute paths of the files handed to the stage. */
	reads: string[];
	/** Absolute path the final answer is written to. */
	outputPath?: string;
}

/** The first line of every stage prompt; it marks where a stage's own work starts in its transcript. */
export function stageHeader(workflow: string, stage: string): string {
	return `Stage "${stage}" of workflow "${workflow}".`;
}

export function buildStagePrompt(parts: StagePromptParts): string {
	const sections = [stageHeader(parts.workflow, parts.stage), parts.prompt.trim()];
	const previous = renderPrevious(parts.previous);
	if (previous) sections.push(previous);
	if (parts.reads.length > 0) {
		sections.push(`Read these files before you answer:\n${parts.reads.map((path) => `- ${path}`).join("\n")}`);
	}
	if (parts.outputPath) {
		sections.push(`Your final answer will be saved to ${parts.outputPath}; reply with its full content.`);
	}
	return sections.join("\n\n");
}

function renderPrevious(previous: Previous | undefined): string | undefined {
	if (previous === undefined) return undefined;
	if (typeof previous === "string")
		return previous.trim() ? `Results from earlier stages:\n\n${previous.trim()}` : undefined;
	const results: readonly StageResult[] = isResultList(previous) ? previous : [previous];
	if (results.length === 0) return undefined;
	const blocks = results.map((result) => `## ${result.name}\n\n${result.text.trim()}`);
	return `Results from earlier stages:\n\n${blocks.join("\n\n")}`;
}

function isResultList(previous: Previous): previous is readonly StageResult[] {
	return Array.isArray(previous);
}
