/** The film-grab.com source: crawler, page parsing, credits normalisation and the polite HTTP client. */
export {
  scrapeFilmGrab,
  FILMGRAB_SITE,
  FILMGRAB_URL,
  ROBOTS_AGENT,
  type ScrapeOptions,
  type ScrapeResult,
} from './crawl.js';
export { SELECTORS, type FilmGrabSelectors } from './selectors.js';
export {
  CREDIT_LABELS,
  canonicalCreditField,
  normaliseCredits,
  normaliseLabel,
  creditsToSpec,
  junkReason,
  type CreditField,
  type Credits,
} from './credits.js';
export { parseIndex, parseMoviePage, type IndexEntry, type MoviePage } from './parse.js';
export {
  PoliteClient,
  TokenBucket,
  USER_AGENT,
  PROJECT_URL,
  parseRetryAfter,
  type PoliteClientOptions,
  type HttpResult,
} from './http.js';
export { readZip, writeZip, type ZipEntry } from './zip.js';
