"""News outlets by host: how an article's original URL is named when its body names no outlet.

A built-in table of common news hosts (Chinese financial and general news, and the large international
outlets); a site's ``[attribution.hosts]`` comes first, so any entry can be renamed (``"sina.com.cn" =
"新浪"``) or kept as the bare host (map it to itself). A parent domain covers its subdomains:
``stock.eastmoney.com`` is 东方财富网.
"""
from __future__ import annotations

from types import MappingProxyType

KNOWN_OUTLETS = MappingProxyType({
    # Chinese financial news
    "eastmoney.com": "东方财富网", "cls.cn": "财联社", "cnstock.com": "中国证券网", "cs.com.cn": "中证网",
    "stcn.com": "证券时报网", "yicai.com": "第一财经", "caixin.com": "财新网", "21jingji.com": "21世纪经济报道",
    "nbd.com.cn": "每日经济新闻", "eeo.com.cn": "经济观察网", "jiemian.com": "界面新闻",
    "wallstreetcn.com": "华尔街见闻",
    "hexun.com": "和讯网", "10jqka.com.cn": "同花顺财经", "jrj.com.cn": "金融界", "jrj.com": "金融界",
    "cnfol.com": "中金在线", "caijing.com.cn": "财经网", "ce.cn": "中国经济网", "xueqiu.com": "雪球",
    "finance.sina.com.cn": "新浪财经", "cailianpress.com": "财联社", "p5w.net": "全景网", "zqrb.cn": "证券日报网",
    "cb.com.cn": "中国经营网", "cnr.cn": "央广网",
    # Chinese general news
    "xinhuanet.com": "新华网", "news.cn": "新华网", "people.com.cn": "人民网", "chinanews.com.cn": "中国新闻网",
    "chinanews.com": "中国新闻网", "cctv.com": "央视网", "cntv.cn": "央视网", "chinadaily.com.cn": "中国日报网",
    "gov.cn": "中国政府网", "thepaper.cn": "澎湃新闻", "sina.com.cn": "新浪网", "qq.com": "腾讯网", "163.com": "网易",
    "sohu.com": "搜狐", "ifeng.com": "凤凰网", "huanqiu.com": "环球网", "guancha.cn": "观察者网",
    "gmw.cn": "光明网", "bjnews.com.cn": "新京报", "zaobao.com": "联合早报", "zaobao.com.sg": "联合早报",
    "scmp.com": "South China Morning Post", "caixinglobal.com": "Caixin Global",
    # international
    "reuters.com": "Reuters", "bloomberg.com": "Bloomberg", "ft.com": "Financial Times",
    "wsj.com": "The Wall Street Journal", "nytimes.com": "The New York Times", "bbc.com": "BBC", "bbc.co.uk": "BBC",
    "cnbc.com": "CNBC", "economist.com": "The Economist", "apnews.com": "AP News", "theguardian.com": "The Guardian",
    "washingtonpost.com": "The Washington Post", "cnn.com": "CNN", "marketwatch.com": "MarketWatch",
    "forbes.com": "Forbes", "nikkei.com": "日本経済新聞", "asia.nikkei.com": "Nikkei Asia", "barrons.com": "Barron's",
    "businessinsider.com": "Business Insider", "axios.com": "Axios", "afp.com": "AFP", "dw.com": "DW",
    "lemonde.fr": "Le Monde", "spiegel.de": "Der Spiegel", "aljazeera.com": "Al Jazeera",
})


def outlet_for_host(host: str, site_hosts: dict[str, str]) -> str | None:
    """The outlet's name for ``host``: the site's table first (the host or a parent domain), then the built-in one."""
    labels = host.lower().rstrip(".").split(".")
    suffixes = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    for table in (site_hosts, KNOWN_OUTLETS):
        for suffix in suffixes:
            name = table.get(suffix)
            if name:
                return name
    return None
