// ctx.ui.input / confirm / select / editor as nodes of the call protocol (human gates; dialogs raised inside a
// stage come here too). A question is journaled when it starts waiting and finished with its answer; the run
// is awaiting_input meanwhile. On resume an answered question returns its recorded answer, and one still
// pending is pending again, never journaled or asked twice.

import { createHash } from "node:crypto";
import { StageError } from "../../authoring/stage-error.js";
import type { PromptAnswer, PromptQuestion } from "../prompt-answer.js";
import type { Scope } from "../scope.js";
import { callNode, type NodeCall, type Prepared } from "./protocol.js";

export async function runPrompt(scope: Scope, question: PromptQuestion, stage?: string): Promise<PromptAnswer> {
	return (await callNode(scope, promptCall(scope, question, stage))) as PromptAnswer;
}

function promptCall(
	scope: Scope,
	question: PromptQuestion,
	stage: string | undefined,
): NodeCall<"prompt", Prepared, null> {
	const { services } = scope;
	const startFields = { question, ...(stage ? { stage } : {}) };
	return {
		kind: "prompt",
		name: question.kind,
		prepare: () => {
			const problem = checkQuestion(question);
			if (problem) return { ok: false, error: problem, start: startFields };
			// The identity of a question is its scope, kind and occurrence; the fingerprint is what it asks.
			return {
				ok: true,
				value: { fingerprint: createHash("sha256").update(JSON.stringify(question)).digest("hex").slice(0, 16) },
			};
		},
		plan: (node, _ready, changed) => {
			const recorded = node.recorded;
			if (recorded && !changed && recorded.status === "completed" && recorded.result !== undefined) {
				return { type: "replay", result: recorded.result };
			}
			// A question still pending from before a crash or a stop is the same question.
			const pending = recorded !== undefined && !changed && recorded.status === "waiting";
			return {
				type: "run",
				...(pending ? { alreadyStarted: true } : {}),
				...(changed ? { rerun: changed } : {}),
				detail: null,
			};
		},
		start: () => startFields,
		run: async (node, _ready, _detail, signal) => {
			let answer: PromptAnswer;
			try {
				answer = await services.prompts.wait({ id: node.id, ...question, ...(stage ? { stage } : {}) }, signal);
			} catch {
				// The only rejection of a wait is the run stopping. The question stays pending in the journal
				// (no finish is journaled), so a resume or a later answer finds it waiting.
				throw new StageError(services.workflow, node.id, "stopped while waiting for an answer", true);
			}
			return { status: "completed", result: answer };
		},
		deliver: (_node, result) => result,
	};
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
