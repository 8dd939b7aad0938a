import { createContext, type ReactNode, useCallback, useContext, useMemo, useState } from 'react';
import { en } from './locales/en.js';
import { ja } from './locales/ja.js';

export type Lang = 'en' | 'ja';
export type MessageKey = keyof typeof en;
const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, ja };
const STORAGE_KEY = 'mailroute.lang';

/** `{name}` in a message is replaced by `values.name`. */
export function translate(lang: Lang, key: MessageKey, values: Record<string, string | number> = {}): string {
  return dictionaries[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => String(values[name] ?? whole));
}

/** The URL's `lang`, then the one chosen before, then the browser's. */
export function initialLang(search: string, stored: string | null, browser: readonly string[]): Lang {
  const fromUrl = new URLSearchParams(search).get('lang');
  for (const candidate of [fromUrl, stored]) if (candidate === 'en' || candidate === 'ja') return candidate;
  return browser.some((tag) => tag.toLowerCase().startsWith('ja')) ? 'ja' : 'en';
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

interface LangContext {
  readonly lang: Lang;
  readonly t: Translate;
  setLang(lang: Lang): void;
}

const Context = createContext<LangContext | undefined>(undefined);

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function LangProvider({ children }: { readonly children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => initialLang(location.search, readStored(), navigator.languages));
  const setLang = useCallback((next: Lang) => {
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Storage refused (private mode): the choice lasts for this page only.
    }
    setLangState(next);
  }, []);
  const value = useMemo<LangContext>(() => {
    document.documentElement.lang = lang;
    return { lang, setLang, t: (key, values) => translate(lang, key, values) };
  }, [lang, setLang]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useLang(): LangContext {
  const context = useContext(Context);
  if (!context) throw new Error('useLang outside LangProvider');
  return context;
}
