// What a human gate asks and which answers it takes: confirm takes yes/no/true/false/y/n, select an
// option or its 1-based number, input and editor any text. An invalid answer is refused with what is
// valid, and the prompt stays pending.

import type { PromptQuestion } from "../store/events.js";

export type { PromptKind, PromptQuestion } from "../store/events.js";

export type PromptAnswer = string | boolean;

const YES = new Set(["yes", "y", "true"]);
const NO = new Set(["no", "n", "false"]);

export function parseAnswer(
	question: PromptQuestion,
	raw: unknown,
): { ok: true; value: PromptAnswer } | { ok: false; error: string } {
	switch (question.kind) {
		case "confirm": {
			if (typeof raw === "boolean") return { ok: true, value: raw };
			const word = typeof raw === "string" ? raw.trim().toLowerCase() : "";
			if (YES.has(word)) return { ok: true, value: true };
			if (NO.has(word)) return { ok: true, value: false };
			return { ok: false, error: `expected yes or no (also y, n, true, false), got ${JSON.stringify(raw)}` };
		}
		case "select": {
			const options = question.options ?? [];
			const text = typeof raw === "number" ? String(raw) : typeof raw === "string" ? raw.trim() : "";
			if (options.includes(text)) return { ok: true, value: text };
			const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
			const chosen = options[number - 1];
			if (chosen !== undefined) return { ok: true, value: chosen };
			const listed = options.map((option, index) => `${index + 1}) ${option}`).join(", ");
			return {
				ok: false,
				error: `expected one of ${listed} (the option or its number), got ${JSON.stringify(raw)}`,
			};
		}
		case "input":
		case "editor":
			if (typeof raw === "string") return { ok: true, value: raw };
			return { ok: false, error: `expected text, got ${raw === undefined ? "nothing" : typeof raw}` };
	}
}

/** How to answer, in words: for notifications, headless output and errors. */
export function answerHint(question: PromptQuestion): string {
	switch (question.kind) {
		case "confirm":
			return "yes or no";
		case "select":
			return `one of ${(question.options ?? []).map((option, index) => `${index + 1}) ${option}`).join(", ")}`;
		default:
			return "text";
	}
}
