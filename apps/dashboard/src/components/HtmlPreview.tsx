import { useState } from 'react';
import { useLang } from '../i18n.js';

/**
 * The message's HTML in a sandboxed frame: no scripts, no forms, no navigation of the console
 * (the sandbox grants nothing), and a content policy that blocks every remote fetch, images
 * included, until the operator asks for them.
 */
export function htmlDocument(html: string, remoteImages: boolean): string {
  const images = remoteImages ? 'data: cid: https: http:' : 'data: cid:';
  const policy = `default-src 'none'; style-src 'unsafe-inline'; img-src ${images}; font-src data:`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${policy}"><base target="_blank"></head><body>${html}</body></html>`;
}

export function HtmlPreview({ html }: { readonly html: string }) {
  const { t } = useLang();
  const [remote, setRemote] = useState(false);
  const hasRemote = /<img[^>]+src\s*=\s*["']?https?:/i.test(html) || /url\(\s*["']?https?:/i.test(html);
  return (
    <div className="html-preview">
      {hasRemote && !remote && (
        <p className="banner banner-info">
          <span aria-hidden="true">▣ </span>
          {t('message.remoteBlocked')}{' '}
          <button type="button" onClick={() => setRemote(true)}>
            {t('message.loadImages')}
          </button>
        </p>
      )}
      <iframe title={t('message.htmlPart')} sandbox="" srcDoc={htmlDocument(html, remote)} referrerPolicy="no-referrer" />
    </div>
  );
}
