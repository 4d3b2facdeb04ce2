// `/workflow attach <run> [stage]` in the TUI: the stage's transcript drawn as Pi draws a session (user messages,
// the assistant's answers, tool calls with their results), redrawn as the transcript file grows while the stage
// runs, with a line at the bottom to steer the stage. Esc returns to the chat. Other modes get `transcriptText`.

import { existsSync, readFileSync, statSync, unwatchFile, watchFile } from "node:fs";
import {
	AssistantMessageComponent,
	buildSessionContext,
	type ExtensionContext,
	getMarkdownTheme,
	parseSessionEntries,
	type SessionEntry,
	type Theme,
	ToolExecutionComponent,
	UserMessageComponent,
} from "@mariozechner/pi-coding-agent";
import { type Component, Container, Input, Text, type TUI } from "@mariozechner/pi-tui";

export interface AttachTarget {
	runId: string;
	stageId: string;
	/** The stage's transcript, absolute. */
	sessionFile: string;
	/** Whether the stage is still running (then it can be steered). */
	running: boolean;
	/** The stage's prompt, shown until its transcript is on disk (Pi writes it once the model first answered). */
	prompt?: string;
	/** Sends a steering message to the stage; resolves with what the run said. */
	steer(message: string): Promise<string>;
}

/** How often the transcript file is looked at while the view is open (it is a file another process may write). */
const WATCH_MS = 200;

type Message = { role: string; content?: unknown; toolCallId?: string; isError?: boolean; details?: unknown };

function messagesOf(file: string): Message[] {
	if (!existsSync(file)) return [];
	const entries = parseSessionEntries(readFileSync(file, "utf8")).filter(
		(entry): entry is SessionEntry => (entry as { type?: string }).type !== "session",
	);
	// Pi 1.x keeps the system prompt as a message of the context; the transcript a person reads starts after it.
	return (buildSessionContext(entries).messages as unknown as Message[]).filter(
		(message) => message.role !== "system",
	);
}

function textOf(content: unknown): string {
	if (typeof content === "string") return content;
	if (!Array.isArray(content)) return "";
	return content
		.map((part: { type?: string; text?: string }) => (part.type === "text" ? (part.text ?? "") : ""))
		.join("");
}

/** The transcript as components, the way Pi's chat draws a session. */
function transcriptComponents(messages: readonly Message[], tui: TUI, cwd: string): Component[] {
	const components: Component[] = [];
	const tools = new Map<string, ToolExecutionComponent>();
	const markdown = getMarkdownTheme();
	for (const message of messages) {
		if (message.role === "user") components.push(new UserMessageComponent(textOf(message.content), markdown));
		else if (message.role === "assistant") {
			components.push(new AssistantMessageComponent(message as never, false, markdown));
			const parts = Array.isArray(message.content) ? message.content : [];
			for (const part of parts as Array<{ type?: string; id?: string; name?: string; arguments?: unknown }>) {
				if (part.type !== "toolCall" || !part.id || !part.name) continue;
				const tool = new ToolExecutionComponent(part.name, part.id, part.arguments ?? {}, {}, undefined, tui, cwd);
				tool.setArgsComplete();
				tools.set(part.id, tool);
				components.push(tool);
			}
		} else if (message.role === "toolResult" && message.toolCallId) {
			tools.get(message.toolCallId)?.updateResult({
				content: (Array.isArray(message.content) ? message.content : []) as never,
				isError: message.isError === true,
				details: message.details,
			} as never);
		}
	}
	return components;
}

/** Opens the view; resolves when the person presses Esc. */
export function openAttachView(ctx: ExtensionContext, target: AttachTarget): Promise<void> {
	return ctx.ui.custom<void>((tui: TUI, theme: Theme, _keys: unknown, done: (result: void) => void) => {
		const root = new Container();
		const header = new Text("", 0, 0);
		const body = new Container();
		const status = new Text("", 0, 0);
		const input = new Input();
		root.addChild(header);
		root.addChild(body);
		root.addChild(status);
		if (target.running) root.addChild(input);
		let size = -1;
		const redraw = () => {
			const now = existsSync(target.sessionFile) ? statSync(target.sessionFile).size : 0;
			if (now === size) return;
			size = now;
			body.clear();
			const messages = messagesOf(target.sessionFile);
			const shown = messages.length === 0 && target.prompt ? [{ role: "user", content: target.prompt }] : messages;
			for (const component of transcriptComponents(shown, tui, ctx.cwd)) body.addChild(component);
			tui.requestRender();
		};
		const hint = target.running
			? "type a message and Enter to steer the stage; Esc returns"
			: "the stage has ended; Esc returns";
		header.setText(
			theme.fg("accent", `Attached to stage ${target.stageId} of run ${target.runId}`) +
				theme.fg("dim", ` (${hint})`),
		);
		input.onSubmit = (value) => {
			const message = value.trim();
			if (!message) return;
			input.setValue("");
			status.setText(theme.fg("dim", `steering: ${message}`));
			void target
				.steer(message)
				.then((reply) => status.setText(theme.fg("success", reply)))
				.catch((error: unknown) =>
					status.setText(theme.fg("error", error instanceof Error ? error.message : String(error))),
				)
				.finally(() => tui.requestRender());
		};
		redraw();
		watchFile(target.sessionFile, { interval: WATCH_MS }, redraw);
		const close = () => {
			unwatchFile(target.sessionFile, redraw);
			done();
		};
		input.onEscape = close;
		return Object.assign(root, {
			handleInput(data: string) {
				// Esc (a lone escape byte) returns; everything else is the steering line's.
				if (data === "\u001b") return close();
				input.handleInput(data);
				tui.requestRender();
			},
			dispose() {
				unwatchFile(target.sessionFile, redraw);
			},
		});
	});
}

/** For print and rpc modes: where the transcript is, and its last messages as text. */
export function transcriptText(target: Pick<AttachTarget, "runId" | "stageId" | "sessionFile">, last = 6): string {
	const messages = messagesOf(target.sessionFile);
	const shown = messages.slice(-last).map((message) => {
		const text =
			message.role === "assistant" && Array.isArray(message.content)
				? (message.content as Array<{ type?: string; text?: string; name?: string; arguments?: unknown }>)
						.map((part) =>
							part.type === "toolCall" ? `[${part.name} ${JSON.stringify(part.arguments)}]` : (part.text ?? ""),
						)
						.join(" ")
				: textOf(message.content);
		const bounded = text.length > 600 ? `${text.slice(0, 600)}... [${text.length - 600} more characters]` : text;
		return `${message.role}: ${bounded}`;
	});
	return [
		`Stage ${target.stageId} of run ${target.runId}: transcript ${target.sessionFile} (${messages.length} messages)`,
		...(messages.length > shown.length ? [`... the last ${shown.length}:`] : []),
		...shown,
	].join("\n");
}
