import { PageHeader } from '../components/layout';
import { Empty } from '../components/ui';
import { usePageTitle } from '../hooks';

export function NotFound() {
  const ref = usePageTitle('Not found');
  return (
    <>
      <PageHeader title="Page not found" titleRef={ref} />
      <Empty title="There is no such page in the console.">
        <a href="#/overview">Go to the overview</a>
      </Empty>
    </>
  );
}
