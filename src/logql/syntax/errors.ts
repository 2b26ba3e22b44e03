// The LogQL parse error, formatted exactly as Loki's logqlmodel.ParseError: with a position
// `parse error at line 1, col 12: <msg>` or, for validation errors raised after parsing (line and
// col both 0), `parse error : <msg>`.

export class ParseError extends Error {
  readonly line: number;
  readonly col: number;
  /** the message without the `parse error ...:` prefix */
  readonly reason: string;

  constructor(reason: string, line = 0, col = 0) {
    super(line === 0 && col === 0 ? `parse error : ${reason}` : `parse error at line ${line}, col ${col}: ${reason}`);
    this.name = 'ParseError';
    this.line = line;
    this.col = col;
    this.reason = reason;
  }
}
