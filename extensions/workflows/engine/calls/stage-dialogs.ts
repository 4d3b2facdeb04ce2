// The UI a stage session's extensions see: their dialogs (select, confirm, input, editor) become questions
// of the run, labelled with the run and the stage and answered like any other; everything else goes to the
// host's UI, or nowhere when there is none.

import type { ExtensionUIContext } from "@mariozechner/pi-coding-agent";
import type { CallScope } from "../call-identity.js";
import type { PromptQuestion } from "../prompt-answer.js";
import type { Scope } from "../scope.js";
import { runPrompt } from "./prompt-call.js";

/** `hold` is told when a dialog starts waiting on a person, and returns how to tell it stopped waiting. */
export function stageDialogs(
	scope: Scope,
	stageId: string,
	calls: CallScope,
	hold: () => () => void = () => () => undefined,
): ExtensionUIContext {
	const host = scope.services.settings.uiContext;
	const label = (title: string) => `Run ${scope.services.runId}, stage "${stageId}": ${title}`;
	const stageScope: Scope = { ...scope, calls };
	// A dialog that could not be asked (the run stopped) answers like a dismissed one.
	const ask = (question: PromptQuestion) => {
		const release = hold();
		return runPrompt(stageScope, question, stageId)
			.catch((error: unknown) => {
				scope.services.warn(
					`stage "${stageId}": a dialog was not answered: ${error instanceof Error ? error.message : String(error)}`,
				);
				return undefined;
			})
			.finally(release);
	};
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
