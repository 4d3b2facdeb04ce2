// Human gates: ctx.ui.input / confirm / select / editor, and the dialogs extensions raise inside a
// stage. Each question is a node in the graph, journaled as pending and then answered; the run waits
// (status awaiting_input) until an answer arrives from any surface. On resume an answered question
// returns its recorded answer, and a pending one is pending again, never asked twice.

import { createHash } from "node:crypto";
import type { ExtensionUIContext } from "@mariozechner/pi-coding-agent";
import { StageError } from "../authoring/stage-error.js";
import type { CallScope } from "./call-identity.js";
import { type PromptAnswer, type PromptQuestion, parseAnswer } from "./prompt-answer.js";
import type { Scope } from "./scope.js";

/** A question waiting for its answer. */
export interface PendingPrompt extends PromptQuestion {
	id: string;
	/** The stage whose session asked, for gates raised inside a stage. */
	stage?: string;
}

/** The questions a run waits on, and the one way to answer them. */
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

/** One question: replayed when answered before, else journaled as pending and waited for. */
export async function runPrompt(scope: Scope, question: PromptQuestion, stage?: string): Promise<PromptAnswer> {
	const { services } = scope;
	const key = scope.calls.next("prompt", question.kind);
	const recorded = services.replay.get(key);
	const id = recorded?.kind === "prompt" ? recorded.stageId : services.ids.next(question.kind);
	const problem = checkQuestion(question);
	if (problem) throw new StageError(services.workflow, id, problem);
	const fingerprint = createHash("sha256").update(JSON.stringify(question)).digest("hex").slice(0, 16);
	const same = recorded?.kind === "prompt" && recorded.fingerprint === fingerprint;
	const parents = scope.frontier.take();
	const settle = () => scope.frontier.settle(id);
	if (same && recorded.state === "completed" && recorded.answer !== undefined) {
		services.record({ type: "stage_replayed", at: now(), stageId: id });
		settle();
		return recorded.answer;
	}
	if (scope.signal.aborted) {
		settle();
		throw new StageError(services.workflow, id, "not asked: the run was stopped", true);
	}
	// A question still pending from before a crash or a stop is the same question: it is not journaled twice.
	if (!same || recorded.state !== "running") {
		services.record(
			{
				type: "prompt_pending",
				at: now(),
				stageId: id,
				key,
				parents,
				fingerprint,
				...question,
				...(stage ? { stage } : {}),
			},
			true,
		);
	}
	let value: PromptAnswer;
	try {
		value = await services.prompts.wait({ id, ...question, ...(stage ? { stage } : {}) }, scope.signal);
	} catch {
		settle();
		throw new StageError(services.workflow, id, "stopped while waiting for an answer", true);
	}
	services.record({ type: "prompt_answered", at: now(), stageId: id, answer: value }, true);
	settle();
	return value;
}

/**
 * The UI a stage session's extensions see: their dialogs become prompts of the run (labelled with the
 * run and stage, answered like any other); everything else goes to the host's UI, or nowhere.
 */
export function stageDialogs(scope: Scope, stageId: string, calls: CallScope): ExtensionUIContext {
	const host = scope.services.uiContext;
	const label = (title: string) => `Run ${scope.services.runId}, stage "${stageId}": ${title}`;
	const stageScope: Scope = { ...scope, calls };
	const ask = (question: PromptQuestion) => runPrompt(stageScope, question, stageId).catch(() => undefined);
	const dialogs: Partial<ExtensionUIContext> = {
		select: async (title, options) =>
			(await ask({ kind: "select", message: label(title), options })) as string | undefined,
		confirm: async (title, message) =>
			(await ask({ kind: "confirm", message: label(message ? `${title}\n${message}` : title) })) === true,
		input: async (title, placeholder) =>
			(await ask({ kind: "input", message: label(title), ...(placeholder ? { placeholder } : {}) })) as
				| string
				| undefined,
		editor: async (title, prefill) =>
			(await ask({ kind: "editor", message: label(title), ...(prefill ? { initial: prefill } : {}) })) as
				| string
				| undefined,
	};
	return new Proxy((host ?? {}) as ExtensionUIContext, {
		get(target, property, receiver) {
			if (property in dialogs) return dialogs[property as keyof typeof dialogs];
			const value = Reflect.get(target, property, receiver);
			if (typeof value === "function") return value.bind(target);
			// Without a host UI, its methods (notify, setStatus, ...) do nothing. Never `then`: a proxy with one
			// would look like a promise to anything that awaits it.
			const method =
				host === undefined && typeof property === "string" && property !== "then" && property !== "theme";
			return value ?? (method ? () => undefined : undefined);
		},
	});
}

function checkQuestion(question: PromptQuestion): string | undefined {
	if (typeof question.message !== "string" || question.message.trim() === "") {
		return `${question.kind}: expected a non-empty message, got ${JSON.stringify(question.message)}`;
	}
	if (question.kind === "select") {
		const options = question.options;
		if (!Array.isArray(options) || options.length === 0) {
			return `select: expected a non-empty list of options, got ${JSON.stringify(options)}`;
		}
		if (options.some((option) => typeof option !== "string" || option === "")) {
			return `select: expected every option to be a non-empty string, got ${JSON.stringify(options)}`;
		}
	}
	return undefined;
}

function now(): string {
	return new Date().toISOString();
}
