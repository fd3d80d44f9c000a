"""Name pools for the synthetic migrant data: spellings per name, native script where known.

Each entry is ``spelling|spelling|...`` with an optional ``=script form``. The first spelling is
the most common romanisation; the others are real variants seen in records (Somali orthography,
French and English romanisations, Russian transliteration...).
"""

from __future__ import annotations

ARABIC_MALE = """
Mohammed|Muhammad|Mohamed|Mohamad|Mohammad=محمد
Ahmed|Ahmad|Ahmet=أحمد
Mahmoud|Mahmud|Mahmood=محمود
Abdelrahman|Abd al-Rahman|Abdulrahman|Abdurrahman|Abderrahmane=عبد الرحمن
Abdullah|Abdallah|Abdulla|Abdalla=عبد الله
Ali|Aly=علي
Hassan|Hasan|Hassen=حسن
Hussein|Husain|Hussain|Hossein=حسين
Omar|Umar|Omer=عمر
Yousef|Youssef|Yusuf|Yousif=يوسف
Ibrahim|Ebrahim|Brahim=إبراهيم
Mustafa|Mostafa|Mustapha=مصطفى
Osman|Othman|Uthman=عثمان
Khalid|Khaled|Kaled=خالد
Adam|Adem=آدم
Ismail|Ismael|Esmail=إسماعيل
Suleiman|Sulayman|Soliman=سليمان
Yasin|Yassin|Yaseen=ياسين
Saeed|Said|Sayed=سعيد
Idris|Idriss=إدريس
Musa|Moussa|Mousa=موسى
Tariq|Tarek|Tarik=طارق
Karim|Kareem=كريم
Jamal|Gamal=جمال
Nasser|Nasir|Naser=ناصر
Salah|Salaheddine|Salih=صالح
Bilal|Belal=بلال
Hamza|Hamzah=حمزة
Anas|Anes=أنس
Ayman|Aiman=أيمن
"""
ARABIC_FEMALE = """
Fatima|Fatma|Fatimah=فاطمة
Aisha|Aicha|Ayesha=عائشة
Khadija|Khadidja|Khadijah=خديجة
Mariam|Maryam|Meryem=مريم
Amina|Aminah|Amena=أمينة
Zainab|Zeinab|Zaynab=زينب
Halima|Halimah|Haleema=حليمة
Nour|Noor|Nur=نور
Rania|Ranya=رانيا
Salma|Selma=سلمى
Huda|Houda|Hoda=هدى
Layla|Leila|Laila=ليلى
Samira|Sameera=سميرة
Asma|Asmaa=أسماء
Hana|Hanaa=هناء
"""
SOMALI_MALE = """
Maxamed|Mohamed|Mohammed|Muhammad
Cabdi|Abdi
Cali|Ali
Xasan|Hassan|Hasan
Xuseen|Hussein|Husein
Cumar|Omar|Umar
Axmed|Ahmed
Cabdiraxmaan|Abdirahman|Abdulrahman|Abdelrahman
Cabdullaahi|Abdullahi|Abdullah
Yuusuf|Yusuf|Yousef
Ismaaciil|Ismail
Maxamuud|Mahamud|Mahmoud
Cismaan|Osman|Ismaan
Aadan|Adan|Adam
Faarax|Farah
Jaamac|Jama
Warsame|Warsame
Guuleed|Guled
Xirsi|Hirsi
Nuur|Nur
Siciid|Said|Saeed
Dahir|Daahir
Sharmaarke|Sharmarke
"""
SOMALI_FEMALE = """
Faadumo|Fatuma|Fatima
Caasha|Asha|Aisha
Xaliimo|Halima
Khadiija|Xadiija|Khadija
Maryan|Mariam
Hodan|Hodon
Sahra|Sahro
Ayaan|Ayan
Nimco|Nimo
Ubax|Ubah
Hibo|Hiba
"""
HORN_MALE = """
Tesfay|Tesfaye|Tesfai=ተስፋይ
Yohannes|Yohanes|Johannes=ዮሃንስ
Abraham|Abrham|Abreham=ኣብርሃም
Mehari|Mehary=መሓሪ
Goitom|Goytom=ጎይቶም
Haile|Hayle=ሃይለ
Berhane|Berhani|Birhane=ብርሃነ
Tekle|Teklay=ተኽለ
Gebre|Gebreh|Ghebre=ገብረ
Kidane|Kidani=ኪዳነ
Semere|Semre=ሰመረ
Filmon|Filimon=ፊልሞን
Dawit|Dawitt|Dawid=ዳዊት
Samuel|Samiel=ሳሙኤል
Yonas|Yonatan|Jonas=ዮናስ
Mulugeta|Mulugheta=ሙሉጌታ
Tewolde|Tewelde=ተወልደ
Amanuel|Emanuel|Amanual=ኣማኑኤል
Mohammed|Mehamed|Muhamed=መሓመድ
Habtom|Habtu=ሃብቶም
"""
HORN_FEMALE = """
Selam|Salam=ሰላም
Senait|Senayt=ሰናይት
Helen|Hellen=ሄለን
Tsega|Tsegga=ጸጋ
Rahel|Rachel=ራሄል
Saba|Sabba=ሳባ
Mebrat|Mebrahtu=መብራት
Yordanos|Yordanos=ዮርዳኖስ
Feven|Fiven=ፌቨን
Lidya|Lydia=ሊድያ
Mariam|Maryam|Mariyam=ማርያም
"""
AFGHAN_MALE = """
Ahmad|Ahmed|Akhmad=احمد
Mohammad|Mohammed|Muhammad|Mukhammad=محمد
Ali|Aly=علی
Hamid|Hameed=حمید
Rahim|Raheem=رحیم
Karim|Kareem=کریم
Jawad|Javad=جواد
Farid|Fareed=فرید
Naveed|Navid=نوید
Omid|Umid=امید
Mustafa|Mostafa=مصطفی
Sohrab|Suhrab=سهراب
Zabihullah|Zabiullah=ذبیح الله
Hekmatullah|Hikmatullah=حکمت الله
Wahid|Waheed=وحید
"""
AFGHAN_FEMALE = """
Fatima|Fatema=فاطمه
Zahra|Zehra=زهرا
Maryam|Mariam=مریم
Parwana|Parvana=پروانه
Shabnam|Shabanam=شبنم
Nargis|Narges=نرگس
Freshta|Fereshta|Fereshteh=فرشته
"""
AFGHAN_FAMILY = """
Ahmadi|Ahmady=احمدی
Rahimi|Raheemi=رحیمی
Hakimi|Hakeemi=حکیمی
Noori|Nuri=نوری
Karimi|Kareemi=کریمی
Haidari|Heydari|Haydari=حیدری
Sultani|Soltani=سلطانی
Popal|Popalzai=پوپل
Stanikzai|Stanekzai=ستانکزی
Mohammadi|Mohammady=محمدی
Hashimi|Hashemi=هاشمی
Safi|Saafi=صافی
"""
WEST_MALE = """
Mamadou|Mamadu|Mohamed|Muhammad
Ousmane|Usman|Osman
Ibrahima|Ibrahim|Brahima
Abdoulaye|Abdullahi|Abdulai
Moussa|Musa
Amadou|Ahmadou|Ahmadu
Souleymane|Suleiman|Sulaymane
Aliou|Aliyu
Oumar|Umar|Omar
Boubacar|Boubakar|Abubakar
Lamine|Lamin
Sekou|Sekou
Issa|Isa
Modou|Moddou
"""
WEST_FEMALE = """
Fatoumata|Fatumata|Fatima
Aissatou|Aisatu|Aisha
Mariama|Mariam
Aminata|Aminatou
Kadiatou|Khadija|Kadijatu
Hawa|Hauwa
Binta|Bintou
"""
WEST_FAMILY = """
Diallo|Jallo|Djallo
Bah|Ba
Barry|Bari
Sow|Sowe
Camara|Kamara
Traore|Traoré|Trawally
Keita|Keyta
Toure|Touré|Ture
Sylla|Silla
Conde|Condé|Konde
Cisse|Cissé|Sisay
Coulibaly|Kulibali
Jallow|Jalloh
Ceesay|Sise
"""
SYRIAN_FAMILY = """
Al-Hassan|Alhassan|El Hassan=الحسن
Al-Ahmad|Alahmad=الأحمد
Haddad|Hadad=حداد
Khalil|Khaleel=خليل
Hamdan|Hamdane=حمدان
Al-Ali|Alali=العلي
Mansour|Mansur=منصور
Darwish|Darwich=درويش
Najjar|Nagar|Najar=نجار
Sabbagh|Sabagh=صباغ
Al-Khatib|Alkhatib|El Khatib=الخطيب
Othman|Osman|Uthman=عثمان
Shami|Chami=شامي
Kurdi|Al-Kurdi=كردي
"""
CYRILLIC = {
    "Mohammed": "Мухаммед",
    "Ahmed": "Ахмед",
    "Abdelrahman": "Абдурахман",
    "Omar": "Умар",
    "Hassan": "Хасан",
    "Ali": "Али",
    "Yousef": "Юсуф",
    "Ibrahim": "Ибрагим",
    "Mustafa": "Мустафа",
    "Fatima": "Фатима",
}


def parse_pool(text: str) -> list[tuple[list[str], str | None]]:
    """Pool text → list of (spellings, script form or None)."""
    out = []
    for line in text.strip().splitlines():
        names, _, script = line.partition("=")
        out.append((names.split("|"), script or None))
    return out
