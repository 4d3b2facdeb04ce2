// Which Pi mode this process runs in. Extensions only see `ctx.hasUI` (true in the TUI and in rpc),
// so rpc and json are told apart by Pi's own `--mode` argument.

export type PiMode = "interactive" | "rpc" | "print" | "json";

export function piMode(hasUI: boolean, argv: readonly string[] = process.argv): PiMode {
	const index = argv.indexOf("--mode");
	const given = index >= 0 ? argv[index + 1] : argv.find((arg) => arg.startsWith("--mode="))?.slice("--mode=".length);
	if (given === "rpc") return "rpc";
	if (given === "json") return "json";
	return hasUI ? "interactive" : "print";
}
