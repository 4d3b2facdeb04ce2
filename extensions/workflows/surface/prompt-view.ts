// Showing a workflow's questions to a person: as a Pi dialog (rpc mode sends it over the protocol; in
// the TUI it opens on `/workflow answer <run>`), as a notification saying how to answer, and as text
// for headless output. Answers go back through the workflow service, wherever the run is driven.

import type { ExtensionUIContext } from "@mariozechner/pi-coding-agent";
import type { PendingPrompt } from "../engine/calls/prompt-board.js";
import { answerHint, type PromptAnswer } from "../engine/prompt-answer.js";

/** Asks with a Pi dialog; undefined when the person dismissed it (the question stays pending). */
export async function askWithDialog(
	ui: ExtensionUIContext,
	runId: string,
	prompt: PendingPrompt,
): Promise<PromptAnswer | undefined> {
	const title = `Workflow run ${runId} asks`;
	switch (prompt.kind) {
		case "confirm": {
			// Pi's confirm dialog resolves false when dismissed; a yes/no select tells "no" from "not now".
			const choice = await ui.select(`${title}: ${prompt.message}`, ["Yes", "No"]);
			return choice === undefined ? undefined : choice === "Yes";
		}
		case "select":
			return ui.select(`${title}: ${prompt.message}`, prompt.options ?? []);
		case "input":
			return ui.input(`${title}: ${prompt.message}`, prompt.placeholder);
		case "editor":
			return ui.editor(`${title}: ${prompt.message}`, prompt.initial);
	}
}

/** The command that answers a question, with the kind of value it takes. */
export function answerCommand(runId: string, prompt: PendingPrompt): string {
	return `/workflow answer ${runId} ${prompt.id} <${answerHint(prompt)}>`;
}

/** What a person is told when a run starts waiting for them. */
export function promptNotice(runId: string, prompt: PendingPrompt): string {
	return [
		`Workflow run ${runId} waits for your answer (${prompt.kind} "${prompt.id}"): ${prompt.message}`,
		`Answer with ${answerCommand(runId, prompt)}, or /workflow answer ${runId} to open the dialog.`,
	].join("\n");
}
