// Error types of the template engine. Messages are exactly Go's text/template error strings, so
// callers can surface them unchanged (Loki wraps parse errors as `invalid line template: ...` and
// puts execution errors in `__error_details__` with `__error__=TemplateFormatErr`).

/** A template that failed to parse, e.g. `template: line:1: unclosed action`. */
export class TemplateParseError extends Error {
  override name = 'TemplateParseError';
}

/** A runtime failure, e.g. `template: line:1:3: executing "line" at <div 1 0>: error calling div: ...`. */
export class TemplateExecError extends Error {
  override name = 'TemplateExecError';
}
