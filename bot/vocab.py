"""Words that carry no topic: question words and fillers in English, Malay and Korean."""

from __future__ import annotations

ENGLISH = """
a about above after again against all am an and any are as at be because been before being
below both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just
let me more most my myself no nor not now of off on once only or other our ours ourselves out
over own same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves tell know please pls
plz give show say said says anything something thing things info information explain
describe quick fact facts question ask asking wondering wonder want wanna like really also
whats what's hows who's whos theres there's is it's im i'm ya u ur r thx kindly bot factbot
hey hi hello yo ok okay um uh hmm just any much many way lot lots get got go going mean does
did doing let's lets need about regarding re kind sort bit little more stuff big
u ur ure youre you're da dat dis pls thanks thank thx ty lol haha btw fyi rn tbh imo imho idk
ppl approx approximately roughly around abt bout smth sth nah yeah yep yes no nope gonna gotta
wanna lemme gimme kinda sorta hey hiya guys guy someone anyone everyone can't cant dont don't
doesnt doesn't isnt isn't arent aren't wasnt wasn't currently now today still actually exactly
"""

MALAY = """
apa apakah siapa siapakah bila bilakah mana manakah di ke dari dan yang ini itu ada adakah
adalah ialah untuk tentang mengenai dengan atau juga saya kami kita awak anda dia mereka
boleh tak tidak bukan sudah telah akan sedang lagi pula ya nak hendak mahu beritahu cerita
ceritakan tolong sila berapa bagaimana kenapa mengapa macam mana pasal dalam pada oleh sebagai
itu lah kah pun je jer ke kat nya seperti antara ni tu sini situ aku saya hang korang
kau engkau dia orang diorang depa kami kita geng memang betul sangat sikit banyak lebih kurang
apa2 camne camana cemana mcm macam bagi kasi sekarang skrg dah belum blm tak x nk nak guna
pakai tau tahu ingin mahu mau boleh blh ada tiada takde xde lagi je jer lah la pun kot kut
eh weh wei oi ok okay sahaja saja hanya semua segala punya dgn yg utk dlm kpd pd ttg
terhadap bersama ngl
"""

KOREAN = """
은 는 이 가 을 를 의 에 에서 와 과 도 로 으로 뭐 무엇 무엇인가요 어떻게 왜 알려줘 알려주세요
말해줘 대해 대해서 관한 관해 있나요 있어 인가요 이에요 예요 입니다 요 좀 그 저 나 너 우리
어떤 무슨 어느 있어요 있습니다 있나 뭐예요 뭐야 뭔가요 뭔데 같은 거요 거 것 주고 줘 주세요
하는 하고 해요 했어요 했나요 할 수 돼요 되나요 요즘 지금 정말 진짜 그냥 좀 많이 얼마나
어때요 어때 어떤가요 어떻습니까 뭡니까 뭐지 뭔지 하나요 했습니까 됐나요 있었나요 건가요 궁금해요
"""

STOPWORDS: frozenset[str] = frozenset((ENGLISH + MALAY + KOREAN).split())

# Words that move a question off what the article reports: another time or person, or
# an opinion ("the ambassador before Lee", "BTS's next concert", "my favourite K-drama").
# Unless a topic uses them too.
_SHIFT = """
before previous former predecessor successor next upcoming future sebelum sebelumnya bekas
worst favourite favorite ago lalu replace replaces replaced replacement succeed succeeds
전임 후임 이전 다음
"""
SHIFT_WORDS: frozenset[str] = frozenset(_SHIFT.split())

# Countries, peoples and big cities, in English, Malay and Korean. A question that
# names one the article is not about asks about something else ("Japan's trade").
# A pack's own places, and words its topics use, are taken out of this list.
_FOREIGN = """
japan japanese jepun 일본 china chinese 중국 beijing taiwan taiwanese 대만 hong_kong
singapore singaporean 싱가포르 indonesia indonesian 인도네시아 jakarta thailand thai 태국 bangkok
vietnam vietnamese 베트남 philippines filipino 필리핀 brunei cambodia laos myanmar burma
india indian 인도 pakistan bangladesh australia australian 호주 america american 미국
usa canada canadian 캐나다 mexico brazil argentina uk britain british england 영국 france
french 프랑스 germany german 독일 italy italian spain spanish russia russian 러시아 ukraine
turkey saudi_arabia uae dubai qatar iran iraq israel egypt africa nigeria north_korea
north_korean 북한 pyongyang tokyo osaka shanghai london paris berlin moscow new_york
washington sydney
"""
FOREIGN_PLACES: frozenset[str] = frozenset(w.replace("_", " ") for w in _FOREIGN.split())

# Common English verbs and adjectives: a sentence that shares only one of them with a
# question ("I think…") says little about it. Their rarity in a pack counts half.
_LIGHT = """
think thought know knew get got make made take took go went come came see saw look want
give gave use used find found tell told ask asked work seem feel felt try leave left call
keep kept let begin began show hear play run move live believe bring brought happen write
provide sit stand lose lost pay meet include continue set learn change lead understand watch
follow stop create speak spoke read allow add spend grow open walk win offer remember love
consider appear buy wait serve die send expect build stay fall cut reach remain suggest
raise pass sell require report decide pull good new first last long great little own other
old right big high different small large next early young important few public bad same
able way thing time year day part place case point fact
"""
LIGHT_WORDS: frozenset[str] = frozenset(_LIGHT.split())
