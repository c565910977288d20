/** Reading film-grab.com pages: the A–Z index and movie pages (title, credits, gallery). */
import * as cheerio from 'cheerio';
import { normaliseCredits, type Credits } from './credits.js';
import { SELECTORS, type FilmGrabSelectors } from './selectors.js';

export interface IndexEntry {
  /** Absolute URL of the movie page. */
  url: string;
  /** The link text: the movie's name as the index shows it. */
  label: string;
}

export interface MoviePage {
  /** From `<title>Title – FILMGRAB</title>`, else the credits' Title; undefined if neither. */
  title?: string;
  /** The page heading (`h1.entry-title`), a last resort for the title. */
  heading?: string;
  credits: Credits;
  /** Full-size still URLs in gallery order, absolute, without duplicates. */
  images: string[];
  /** The gallery's zip download, if the page offers one. */
  zip?: string;
}

function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** `href` resolved against the page, for http(s) links only; the fragment is dropped. */
function absolute(href: string | undefined, base: string): string | undefined {
  if (!href) return undefined;
  try {
    const u = new URL(href.trim(), base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    u.hash = '';
    return u.href;
  } catch {
    return undefined;
  }
}

/** The first element matching the first selector (of a comma list) that matches anything: a priority list. */
function firstOf($: cheerio.CheerioAPI, selectorList: string) {
  for (const sel of selectorList.split(',')) {
    const el = $(sel.trim()).first();
    if (el.length > 0) return el;
  }
  return undefined;
}

/** Movie links of the A–Z index, in page order, each URL once. */
export function parseIndex(
  html: string,
  pageUrl: string,
  selectors: FilmGrabSelectors = SELECTORS,
): IndexEntry[] {
  const $ = cheerio.load(html);
  const seen = new Set<string>();
  const out: IndexEntry[] = [];
  $(selectors.indexLinks).each((_, el) => {
    const url = absolute($(el).attr('href'), pageUrl);
    if (!url || seen.has(url)) return;
    seen.add(url);
    out.push({ url, label: clean($(el).text()) || url });
  });
  return out;
}

/** The text lines of the post body, with markup that is not content (styles, scripts, the gallery) removed. */
export function contentLines($: cheerio.CheerioAPI, selectors: FilmGrabSelectors = SELECTORS): string[] {
  const content = firstOf($, selectors.content);
  if (!content) return [];
  const root = content.clone();
  root.find(selectors.noise).remove();
  // Line structure is in the markup, not the text: <br> and block elements end lines.
  root.find('br').replaceWith('\n');
  root.find(selectors.creditBlocks).each((_, el) => {
    $(el).prepend('\n').append('\n');
  });
  return root
    .text()
    .split('\n')
    .map(clean)
    .filter((l) => l.length > 0);
}

/**
 * Reads a movie page. Never throws on odd markup: missing parts come back as
 * undefined fields or empty lists, for the crawler to record.
 */
export function parseMoviePage(
  html: string,
  pageUrl: string,
  selectors: FilmGrabSelectors = SELECTORS,
): MoviePage {
  const $ = cheerio.load(html);
  const images: string[] = [];
  const seen = new Set<string>();
  $(selectors.galleryImages).each((_, el) => {
    const url = absolute($(el).attr('href'), pageUrl);
    if (!url || seen.has(url)) return;
    seen.add(url);
    images.push(url);
  });
  const zip = absolute($(selectors.galleryZip).first().attr('href'), pageUrl);
  const credits = normaliseCredits(contentLines($, selectors));

  const rawTitle = clean($(selectors.pageTitle).first().text());
  let title: string | undefined = clean(rawTitle.replace(selectors.titleSuffix, ''));
  if (!title || /^filmgrab$/i.test(title)) title = credits.title;
  // Only the heading's own first text: in broken markup an unclosed <h1> swallows the page.
  const h = firstOf($, selectors.heading);
  const heading = h ? clean(h.contents().first().text()) || undefined : undefined;
  return { title, heading, credits, images, zip };
}
