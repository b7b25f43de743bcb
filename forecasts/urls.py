"""Every page of the app, under the ``forecasts`` namespace; each domain lists its own."""

from forecasts.digests import urls as digest_urls
from forecasts.reviews import urls as review_urls
from forecasts.web import urls as web_urls

app_name = "forecasts"

urlpatterns = [*web_urls.urlpatterns, *review_urls.urlpatterns, *digest_urls.urlpatterns]
