// The questions a run waits on now, and the one way to answer them: an answer is checked against its
// question (an invalid one changes nothing and says what is valid) before the waiting call gets it.

import { type PromptAnswer, type PromptQuestion, parseAnswer } from "../prompt-answer.js";

/** A question waiting for its answer. */
export interface PendingPrompt extends PromptQuestion {
	id: string;
	/** The stage whose session asked, for gates raised inside a stage. */
	stage?: string;
}

export class PromptBoard {
	private readonly waiting = new Map<string, { prompt: PendingPrompt; resolve: (value: PromptAnswer) => void }>();

	constructor(
		private readonly runId: string,
		/** Told about each question as it starts waiting (the surface shows it; headless runs stop). */
		private readonly onAsk: (prompt: PendingPrompt) => void,
	) {}

	pending(): PendingPrompt[] {
		return [...this.waiting.values()].map((entry) => entry.prompt);
	}

	wait(prompt: PendingPrompt, signal: AbortSignal): Promise<PromptAnswer> {
		return new Promise((resolve, reject) => {
			if (signal.aborted) return reject(new Error("stopped"));
			const onAbort = () => {
				this.waiting.delete(prompt.id);
				reject(new Error("stopped"));
			};
			signal.addEventListener("abort", onAbort, { once: true });
			this.waiting.set(prompt.id, {
				prompt,
				resolve: (value) => {
					signal.removeEventListener("abort", onAbort);
					this.waiting.delete(prompt.id);
					resolve(value);
				},
			});
			this.onAsk(prompt);
		});
	}

	/** Answers a pending question (the only one when `promptId` is omitted); throws, changing nothing,
	 * when there is no such question or the answer does not fit it. */
	answer(promptId: string | undefined, raw: unknown): { prompt: PendingPrompt; value: PromptAnswer } {
		const entry = findPending(this.runId, this.pending(), promptId);
		const parsed = parseAnswer(entry, raw);
		if (!parsed.ok) throw new Error(`Run ${this.runId}, prompt "${entry.id}": ${parsed.error}; it is still waiting.`);
		this.waiting.get(entry.id)?.resolve(parsed.value);
		return { prompt: entry, value: parsed.value };
	}
}

/** Picks the prompt an answer is for, with errors that list what is waiting. */
export function findPending<P extends { id: string }>(runId: string, pending: readonly P[], promptId?: string): P {
	if (pending.length === 0) throw new Error(`Run ${runId} is not waiting for an answer; nothing was changed.`);
	if (promptId === undefined) {
		if (pending.length === 1) return pending[0] as P;
		throw new Error(
			`Run ${runId} waits for several prompts (${pending.map((prompt) => prompt.id).join(", ")}); name the one to answer.`,
		);
	}
	const found = pending.find((prompt) => prompt.id === promptId);
	if (!found) {
		throw new Error(
			`Run ${runId} has no pending prompt "${promptId}" (waiting: ${pending.map((prompt) => prompt.id).join(", ")}).`,
		);
	}
	return found;
}
