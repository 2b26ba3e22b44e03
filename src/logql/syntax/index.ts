// Public entry points of the LogQL front end (lexer + parser + printers). Other modules import
// from here: parseExpr for /query and /query_range, parseLogSelector for index-style APIs,
// parseMatchers for `match[]`, exprToString/stageToString for Loki-identical error texts, and
// prettyPrint for /loki/api/v1/format_query.
export { ParseError } from './errors.js';
export { parseExpr, parseLogSelector, parseMatchers, QueryTypeError } from './parser.js';
export {
  exprToString,
  labelFilterToString,
  logRangeToString,
  logSelectorToString,
  matcherToString,
  matchersToString,
  prettyPrint,
  stageToString,
} from './print.js';
export { formatGoDuration, formatPromDuration, parseGoDuration, parsePromDuration, DurationError } from './duration.js';
export { formatHumanBytes, parseHumanBytes } from './bytes.js';
export { formatGoFloat, formatGoFloatF, goParseFloat } from './numbers.js';
export { tokenize, type Token } from './lexer.js';
