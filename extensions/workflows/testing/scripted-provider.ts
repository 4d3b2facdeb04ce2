// A scripted model provider for offline runs: tests, the demo, and workflow authors' own tests.
// It answers each request from a script function instead of a network call, computes token usage
// from the text it saw and wrote (so cost is not 0), honours abort signals, and records every call.
// Register it with `modelRegistry.registerProvider(name, provider.config)` in process (see
// `createInMemoryModelRegistry`), or with `pi.registerProvider(name, provider.config)` from an extension
// loaded into the real `pi` CLI. Both Pi lines are read alike: 0.73.1 hands a provider the system prompt and
// tools as fields of the context, 1.x as leading system messages; the script sees the same request either way.

import * as ai from "@mariozechner/pi-ai";
import {
	type AssistantMessage,
	type AssistantMessageEventStream,
	type Context,
	calculateCost,
	createAssistantMessageEventStream,
	type Model,
	type SimpleStreamOptions,
	type ToolCall,
	type Usage,
} from "@mariozechner/pi-ai";
import type { ProviderConfig } from "@mariozechner/pi-coding-agent";

/** What the script sees about one model request. */
export interface ScriptedRequest {
	/** Model id the request went to. */
	model: string;
	/** Stage id from the latest user message that names one (the engine starts every stage prompt with
	 * `Stage "<id>" of workflow "<name>".`), when present. */
	stage: string | undefined;
	/** 1-based number of this request among the requests carrying the same stage marker. */
	stageCall: number;
	systemPrompt: string;
	/** Text of every message in the context, in order, as `role: text`. */
	transcript: string[];
	/** Text of the last user (or tool result) message. */
	lastMessage: string;
	/** Names of the tools offered to the model. */
	tools: string[];
	/** The parameter schema of each tool offered, by name (a structured stage's `submit_result` takes its schema). */
	toolSchemas: Record<string, unknown>;
	/** Whether the previous message is a tool result (the model is being called back after a tool ran). */
	afterToolResult: boolean;
	/** The API key Pi sent with the request (the provider's own, or one from `--api-key`, auth.json or a login). */
	apiKey: string | undefined;
}

/** One scripted reply: plain text, tool calls, or a provider error. */
export type ScriptedReply =
	| string
	| {
			text?: string;
			toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
			/** Makes the request fail as a provider error with this message. */
			error?: string;
			/** Waits this long before answering (aborts end the wait early). */
			delayMs?: number;
	  };

export type Script = (request: ScriptedRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedProviderOptions {
	/** Model ids this provider serves. */
	models: string[];
	script: Script;
	/** Price per million tokens, so usage has a cost (default: input 1, output 4). */
	cost?: { input: number; output: number };
	/** Whether the models accept thinking levels (default true). */
	reasoning?: boolean;
	/** A provider nobody is logged in to: a login exists, no key (its models have no credentials). */
	loggedOut?: boolean;
}

export interface ScriptedProvider {
	config: ProviderConfig;
	/** Every request made so far, in arrival order. */
	calls: ScriptedRequest[];
	/** Requests currently being answered. */
	readonly inFlight: number;
}

export const STAGE_MARKER = /Stage "([^"]+)" of workflow/;

export function createScriptedProvider(options: ScriptedProviderOptions): ScriptedProvider {
	const calls: ScriptedRequest[] = [];
	const callsPerStage = new Map<string, number>();
	let inFlight = 0;
	const api = `scripted-${Math.random().toString(36).slice(2, 8)}`;
	const cost = options.cost ?? { input: 1, output: 4 };

	const streamSimple = (
		model: Model<string>,
		context: Context,
		streamOptions?: SimpleStreamOptions,
	): AssistantMessageEventStream => {
		const stream = createAssistantMessageEventStream();
		const plain = plainContext(context);
		const request = describeRequest(model, plain, streamOptions?.apiKey, callsPerStage);
		calls.push(request);
		inFlight++;
		void answer(stream, model, plain, request, options.script, streamOptions?.signal).finally(() => {
			inFlight--;
		});
		return stream;
	};

	return {
		calls,
		get inFlight() {
			return inFlight;
		},
		config: {
			name: "Scripted",
			baseUrl: "http://localhost:0",
			...(options.loggedOut ? { oauth: loggedOutLogin() } : { apiKey: "scripted-key" }),
			api,
			streamSimple,
			models: options.models.map((id) => ({
				id,
				name: id,
				reasoning: options.reasoning ?? true,
				input: ["text"],
				cost: { input: cost.input, output: cost.output, cacheRead: 0, cacheWrite: 0 },
				contextWindow: 200_000,
				maxTokens: 16_384,
			})),
		},
	};
}

/** A login that was never done: Pi knows the provider needs one and has no credentials for it. */
function loggedOutLogin(): NonNullable<ProviderConfig["oauth"]> {
	const refuse = async (): Promise<never> => {
		throw new Error("the scripted provider's login is not available offline");
	};
	return { name: "Scripted (logged out)", login: refuse, refreshToken: refuse, getApiKey: () => "" };
}

type ContextMessage = Context["messages"][number];

/** The request as a 0.73.1 provider sees it: system prompt and tools apart, no system messages. */
interface PlainContext {
	systemPrompt: string;
	tools: string[];
	toolSchemas: Record<string, unknown>;
	messages: ContextMessage[];
}

/** Pi 1.x's readers of a transcript's system messages (absent on 0.73.1, whose contexts carry none). */
const transcriptReaders = ai as unknown as {
	getCurrentSystemPrompt?: (messages: readonly { role: string }[]) => string;
	getCurrentTools?: (messages: readonly { role: string }[]) => Array<{ name: string; parameters?: unknown }>;
};

function plainContext(context: Context): PlainContext {
	const all = context.messages as ReadonlyArray<{ role: string }>;
	const { getCurrentSystemPrompt, getCurrentTools } = transcriptReaders;
	if (all.some((message) => message.role === "system") && getCurrentSystemPrompt && getCurrentTools) {
		const tools = getCurrentTools(all);
		return {
			systemPrompt: getCurrentSystemPrompt(all),
			tools: tools.map((tool) => tool.name),
			toolSchemas: Object.fromEntries(tools.map((tool) => [tool.name, tool.parameters])),
			messages: all.filter((message) => message.role !== "system") as ContextMessage[],
		};
	}
	return {
		systemPrompt: context.systemPrompt ?? "",
		tools: (context.tools ?? []).map((tool) => tool.name),
		toolSchemas: Object.fromEntries((context.tools ?? []).map((tool) => [tool.name, tool.parameters])),
		messages: context.messages,
	};
}

function describeRequest(
	model: Model<string>,
	context: PlainContext,
	apiKey: string | undefined,
	callsPerStage: Map<string, number>,
): ScriptedRequest {
	const transcript = context.messages.map((message) => `${message.role}: ${messageText(message)}`);
	const stage = context.messages
		.filter((message) => message.role === "user")
		.map((message) => STAGE_MARKER.exec(messageText(message))?.[1])
		.findLast((found) => found !== undefined);
	const key = stage ?? "";
	const stageCall = (callsPerStage.get(key) ?? 0) + 1;
	callsPerStage.set(key, stageCall);
	const last = context.messages.at(-1);
	return {
		model: model.id,
		stage,
		stageCall,
		systemPrompt: context.systemPrompt,
		transcript,
		lastMessage: last ? messageText(last) : "",
		tools: context.tools,
		toolSchemas: context.toolSchemas,
		afterToolResult: last?.role === "toolResult",
		apiKey,
	};
}

function messageText(message: ContextMessage): string {
	if (typeof message.content === "string") return message.content;
	return message.content
		.map((block) => {
			if (block.type === "text") return block.text;
			if (block.type === "toolCall") return `${block.name}(${JSON.stringify(block.arguments)})`;
			if (block.type === "thinking") return block.thinking;
			return "";
		})
		.join("\n");
}

async function answer(
	stream: AssistantMessageEventStream,
	model: Model<string>,
	context: PlainContext,
	request: ScriptedRequest,
	script: Script,
	signal: AbortSignal | undefined,
): Promise<void> {
	let message = emptyMessage(model);
	try {
		const reply = normalize(await script(request));
		if (reply.delayMs) await wait(reply.delayMs, signal);
		if (signal?.aborted) {
			finish(stream, { ...message, stopReason: "aborted", errorMessage: "Request was aborted" });
			return;
		}
		const toolCalls: ToolCall[] = (reply.toolCalls ?? []).map((call, index) => ({
			type: "toolCall",
			id: `call_${Date.now().toString(36)}_${index}`,
			name: call.name,
			arguments: call.arguments as ToolCall["arguments"],
		}));
		message = {
			...message,
			content: [...(reply.text ? [{ type: "text" as const, text: reply.text }] : []), ...toolCalls],
			stopReason: reply.error ? "error" : toolCalls.length > 0 ? "toolUse" : "stop",
			errorMessage: reply.error,
		};
		message.usage = usageFor(model, context, reply.text ?? JSON.stringify(reply.toolCalls ?? []));
		stream.push({ type: "start", partial: { ...message, content: [] } });
		finish(stream, message);
	} catch (error) {
		finish(stream, { ...message, stopReason: "error", errorMessage: String(error) });
	}
}

function finish(stream: AssistantMessageEventStream, message: AssistantMessage): void {
	if (message.stopReason === "error" || message.stopReason === "aborted") {
		stream.push({ type: "error", reason: message.stopReason, error: message });
	} else {
		// The scripted model only ever stops or calls tools.
		stream.push({ type: "done", reason: message.stopReason === "toolUse" ? "toolUse" : "stop", message });
	}
	stream.end(message);
}

function normalize(reply: ScriptedReply): Exclude<ScriptedReply, string> {
	return typeof reply === "string" ? { text: reply } : reply;
}

function emptyMessage(model: Model<string>): AssistantMessage {
	return {
		role: "assistant",
		content: [],
		api: model.api,
		provider: model.provider,
		model: model.id,
		usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, cost: zeroCost() },
		stopReason: "stop",
		timestamp: Date.now(),
	};
}

function usageFor(model: Model<string>, context: PlainContext, replyText: string): Usage {
	const promptChars =
		context.systemPrompt.length + context.messages.reduce((sum, m) => sum + messageText(m).length, 0);
	const input = Math.ceil(promptChars / 4);
	const output = Math.max(1, Math.ceil(replyText.length / 4));
	const usage: Usage = { input, output, cacheRead: 0, cacheWrite: 0, totalTokens: input + output, cost: zeroCost() };
	usage.cost = calculateCost(model, usage);
	return usage;
}

function zeroCost(): Usage["cost"] {
	return { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 };
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
	return new Promise((resolve) => {
		if (signal?.aborted) return resolve();
		const timer = setTimeout(done, ms);
		signal?.addEventListener("abort", done, { once: true });
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener("abort", done);
			resolve();
		}
	});
}
