-- grain: one row per calendar date (England): weekdays, bank holidays, academic years
-- unique_key: [date_day]
-- not_null: [date_day, academic_year, iso_weekday, is_weekend, is_bank_holiday]
select
    date_day,
    iso_weekday,
    weekday_name,
    is_weekend,
    is_bank_holiday,
    bank_holiday_name,
    academic_year,
    academic_year_start,
    iso_year,
    iso_week,
    month,
    month_name,
    day_of_month
from reference.calendar_date
