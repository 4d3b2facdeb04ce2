// Reads what a stage's transcript holds, for resume: whether the stage did any work of its own (after
// its own prompt, which a fork's copied history precedes), whether its last answer is final, and what
// it spent. A missing transcript holds no work; an unreadable one is said to be unreadable.

import { existsSync } from "node:fs";
import type { AgentMessage } from "@mariozechner/pi-agent-core";
import { SessionManager } from "@mariozechner/pi-coding-agent";
import type { Usage } from "../authoring/types.js";
import { usageOfMessages } from "./usage.js";

export type TranscriptWork =
	| { kind: "none" }
	/** The file is there but could not be read: its work is unknown, never taken for none. */
	| { kind: "unreadable"; error: string }
	/** Work was done, but the stage had not answered: continue it. */
	| { kind: "partial"; usage: Usage; said: string[] }
	/** The stage's last message is its final answer: nothing to run. */
	| { kind: "finished"; text: string; usage: Usage; said: string[] };

export function inspectTranscript(file: string, ownPrompt: string, cwd: string): TranscriptWork {
	if (!existsSync(file)) return { kind: "none" };
	let messages: AgentMessage[];
	try {
		messages = SessionManager.open(file, undefined, cwd).buildSessionContext().messages;
	} catch (error) {
		return { kind: "unreadable", error: error instanceof Error ? error.message : String(error) };
	}
	const start = ownWorkStart(messages, ownPrompt);
	// Without its own prompt the transcript is only a fork's copied history: no work of this stage.
	if (start < 0) return { kind: "none" };
	const own = messages.slice(start);
	const work = own.filter(
		(message) =>
			message.role === "toolResult" ||
			(message.role === "assistant" && message.stopReason !== "error" && message.stopReason !== "aborted"),
	);
	if (work.length === 0) return { kind: "none" };
	const usage = usageOfMessages(own);
	/** What the stage was told (its prompt, steers, continuations), to find messages that never reached it. */
	const said = own.map(textOf).filter(Boolean);
	const last = own.at(-1);
	if (last?.role === "assistant" && last.stopReason === "stop") {
		const text = last.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
		if (text.trim()) return { kind: "finished", text, usage, said };
	}
	return { kind: "partial", usage, said };
}

/** Index of the stage's own first prompt (earlier messages are a fork's copied history); -1 when absent. */
export function ownWorkStart(messages: readonly AgentMessage[], ownPrompt: string): number {
	return messages.findIndex((message) => message.role === "user" && textOf(message).startsWith(ownPrompt));
}

function textOf(message: AgentMessage): string {
	if (message.role !== "user") return "";
	const content = message.content;
	if (typeof content === "string") return content;
	return content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
}
