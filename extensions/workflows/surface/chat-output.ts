// Where what the extension says goes. In the TUI a `/workflow` command's output is a message in the chat under the
// command that asked for it, so it stays (in scrollback too) when the next command answers; a run's end is one too.
// rpc clients get notifications; headless modes print (errors to stderr, exit code 1). The renderers draw both
// message kinds with a styled header instead of Pi's raw `[customType]` label.

import { type ExtensionAPI, type ExtensionContext, getMarkdownTheme, type Theme } from "@mariozechner/pi-coding-agent";
import { Container, Markdown, Text } from "@mariozechner/pi-tui";
import { piMode } from "./pi-mode.js";

/** A command's output in the chat. */
export const OUTPUT_MESSAGE = "workflow-output";
/** A run's end in the chat (the model is told too when it started the run). */
export const RUN_MESSAGE = "workflow-run";

export interface OutputDetails {
	/** The command as typed, shown above its output. */
	command?: string;
	level: "info" | "error";
	/** The content is markdown (a run's receipt), drawn as Pi draws markdown. */
	markdown?: boolean;
}

export interface RunMessageDetails {
	runId: string;
	status: string;
}

/** `page`: what the TUI shows instead of `text`, as markdown (a run's receipt); other modes get `text`. */
export type Say = (ctx: ExtensionContext, text: string, level?: "info" | "error", page?: string) => void;

/** How a command reports: `command` is what was typed, echoed above the output in the TUI. */
export function commandOutput(pi: ExtensionAPI, command: string, print: (line: string) => void): Say {
	return (ctx, text, level = "info", page) => {
		if (ctx.hasUI) {
			// While the agent works a message would join its turn; then it stays a notification.
			if (piMode(true) === "interactive" && ctx.isIdle()) {
				const details: OutputDetails = { command, level, ...(page ? { markdown: true } : {}) };
				pi.sendMessage<OutputDetails>(
					{ customType: OUTPUT_MESSAGE, content: page ?? text, display: true, details },
					{ triggerTurn: false },
				);
				return;
			}
			ctx.ui.notify(text, level);
			return;
		}
		if (level === "error") {
			process.stderr.write(`${text}\n`);
			process.exitCode = 1;
			return;
		}
		print(text);
	};
}

export function registerChatRenderers(pi: ExtensionAPI): void {
	pi.registerMessageRenderer<OutputDetails>(OUTPUT_MESSAGE, (message, _options, theme) => {
		const details = message.details;
		const header = theme.fg("muted", details?.command ?? "/workflow");
		const body = contentText(message.content);
		if (details?.markdown) {
			const page = new Container();
			page.addChild(new Text(header, 0, 0));
			page.addChild(new Markdown(body, 0, 0, getMarkdownTheme()));
			return page;
		}
		return new Text(`${header}\n${details?.level === "error" ? theme.fg("error", body) : body}`, 0, 0);
	});
	pi.registerMessageRenderer<RunMessageDetails>(RUN_MESSAGE, (message, _options, theme) => {
		const status = message.details?.status ?? "";
		const [headline = "", ...rest] = contentText(message.content).split("\n");
		const head = theme.fg(statusColour(status), theme.bold(headline));
		return new Text([head, ...rest].join("\n"), 0, 0);
	});
}

function statusColour(status: string): Parameters<Theme["fg"]>[0] {
	if (status === "completed" || status === "skipped") return "success";
	if (status === "failed" || status === "cancelled" || status === "blocked") return "error";
	return "warning";
}

function contentText(content: unknown): string {
	if (typeof content === "string") return content;
	if (Array.isArray(content)) {
		return content
			.map((part) => (part && typeof part === "object" && "text" in part ? String(part.text) : ""))
			.join("");
	}
	return "";
}
