import { Link } from 'react-router';
import { useLang } from '../i18n.js';

export function NotFoundPage() {
  const { t } = useLang();
  return (
    <section className="empty">
      <h1>{t('notFound.title')}</h1>
      <Link to="/">{t('nav.overview')}</Link>
    </section>
  );
}
